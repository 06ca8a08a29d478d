// OPRF key rotation with real nodes on loopback (spec/oprf.md §2.1): MK
// rotates its OPRF key while RS keeps querying for MK's case. Every answer
// from MK is a hit or, while RS's copy of MK's index is being replaced, an
// error saying so ("index sync pending", or the rotation in progress) —
// never a miss; after the switch MK serves no tag of the old epoch.
#include <chrono>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/crypto/voprf.h"
#include "core/identifiers/identifiers.h"
#include "core/util/bytes.h"
#include "gtest/gtest.h"
#include "tests/integration/federation.h"
#include "tests/testing/time_scale.h"

namespace cbx::testing {
namespace {

constexpr char kUsername[] = "rotation_room_admin";

class OprfRotationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    FederationOptions options;
    options.countries = {"MK", "RS", "BA"};
    options.edit_config = [](const std::string& cc, nlohmann::json& config) {
      if (cc == "MK") config["keys"]["oprf_key_next"] = "oprf-2.key";
    };
    auto f = Federation::Create(options);
    ASSERT_TRUE(f.ok()) << f.status();
    fed_ = *std::move(f);
    std::string out;
    ASSERT_EQ(RunCommand(AdminBinary() + " key generate --kind oprf --out " +
                             NextKeyPath(),
                         &out),
              0)
        << out;
    absl::Status started = fed_->StartAll();
    ASSERT_TRUE(started.ok()) << started;
    // MK's case the username is in, and RS's case its office queries under
    // (spec/office-api.md §4.5).
    AddCase("RS", "RS-2026-0142", "rs_purpose_case");
    AddCase("MK", "MK-2026-7", kUsername);
    absl::Status synced = fed_->WaitForIndex("RS", {{"MK", 1}});
    ASSERT_TRUE(synced.ok()) << synced;
  }
  void AddCase(const std::string& cc, const std::string& number,
               const std::string& username) {
    v1::AddCaseRequest req;
    v1::Case* c = req.mutable_case_();
    c->set_case_number(number);
    v1::Identifier* id = c->add_identifiers();
    id->set_type(v1::IDENTIFIER_TYPE_TELEGRAM_USERNAME);
    id->set_value(username);
    c->add_offences()->set_code(v1::OFFENCE_CODE_NCII_SHARING);
    c->set_role(v1::PERPETRATOR_ROLE_ADMINISTRATOR);
    c->set_contact_point("+000 24/7 duty prosecutor (fictional)");
    grpc::ClientContext ctx;
    ctx.set_wait_for_ready(true);
    ctx.set_deadline(std::chrono::system_clock::now() +
                     Scaled(std::chrono::seconds(60)));
    v1::Case added;
    grpc::Status s = fed_->Office(cc)->AddCase(&ctx, req, &added);
    ASSERT_TRUE(s.ok()) << cc << " " << s.error_message();
  }
  void TearDown() override {
    if (HasFailure() && fed_ != nullptr) fed_->DumpLogs();
  }

  std::string NextKeyPath() const {
    return fed_->NodeDir("MK") + "/oprf-2.key";
  }

  // RS's office queries the username; MK's answer.
  v1::PeerAnswer QueryMk() {
    v1::QueryRequest req;
    v1::Identifier* id = req.add_identifiers();
    id->set_type(v1::IDENTIFIER_TYPE_TELEGRAM_USERNAME);
    id->set_value(kUsername);
    req.mutable_purpose()->set_case_number("RS-2026-0142");
    req.mutable_purpose()->set_legal_basis("MLA-Convention-1959 Art.1");
    req.mutable_purpose()->set_offence(v1::OFFENCE_CODE_NCII_SHARING);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() +
                     Scaled(std::chrono::seconds(30)));
    auto reader = fed_->Office("RS")->Query(&ctx, req);
    v1::QueryEvent event;
    v1::PeerAnswer mk;
    while (reader->Read(&event)) {
      if (event.has_answer() && event.answer().member() == "MK") {
        mk = event.answer();
      }
    }
    grpc::Status finished = reader->Finish();
    EXPECT_TRUE(finished.ok()) << finished.error_message();
    return mk;
  }
  // A hit, or an error that says why there is no answer yet; never a miss.
  void ExpectHitOrPending(const v1::PeerAnswer& a, int* hits, int* pending) {
    if (a.outcome() == v1::PEER_OUTCOME_HIT) {
      ++*hits;
      return;
    }
    ++*pending;
    EXPECT_EQ(a.outcome(), v1::PEER_OUTCOME_ERROR) << a.DebugString();
    EXPECT_TRUE(absl::StrContains(a.error(), "index sync pending") ||
                absl::StrContains(a.error(), "rotation in progress"))
        << a.DebugString();
  }
  uint64_t DirectoryVersion(const std::string& cc) {
    grpc::ClientContext ctx;
    v1::ListPeersResponse peers;
    fed_->Office(cc, "operator")
        ->ListPeers(&ctx, v1::ListPeersRequest(), &peers);
    return peers.directory_version();
  }
  // Installs version 2, which lists MK's next key with epoch 2, into MK.
  void PublishEpoch2() {
    nlohmann::json next = fed_->spec();
    next["version"] = 2;
    next.erase("issued_at_ms");
    for (auto& m : next["members"]) {
      if (m["code"] != "MK") continue;
      m.erase("oprf_key_public");
      m["oprf_key"] = NextKeyPath();
      m["oprf_epoch"] = 2;
    }
    const std::string dir = fed_->dir();
    std::ofstream(dir + "/federation-v2.json") << next.dump(2);
    std::string out;
    const std::string admin = AdminBinary();
    ASSERT_EQ(RunCommand(admin + " directory build --spec " + dir +
                             "/federation-v2.json --out " + dir +
                             "/v2.pb --previous " + dir + "/genesis.pb",
                         &out),
              0)
        << out;
    for (const char* cc : {"MK", "RS", "BA"}) {
      ASSERT_EQ(RunCommand(admin + " directory sign --in " + dir +
                               "/v2.pb --member " + cc + " --key " + dir + "/" +
                               cc + "/governance.key --out " + dir +
                               "/v2.pb --previous " + dir + "/genesis.pb",
                           &out),
                0)
          << out;
    }
    ASSERT_EQ(RunCommand(NodeBinary() + " --allow-root --config " +
                             fed_->NodeDir("MK") +
                             "/node.json --install-directory " + dir + "/v2.pb",
                         &out),
              0)
        << out;
  }
  // The tags MK serves for `epoch` (SyncIndex from version 0, as RS), or
  // the refusal.
  absl::StatusOr<std::vector<uint64_t>> MkTags(uint32_t epoch) {
    auto stub = fed_->PeerAs("MK", "RS");
    v1::Envelope request = SealAs(*fed_, "RS", "MK", [&](v1::Message& m) {
      m.mutable_index_request()->set_oprf_epoch(epoch);
      m.mutable_index_request()->set_since_version(0);
    });
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() +
                     Scaled(std::chrono::seconds(10)));
    auto reader = stub->SyncIndex(&ctx, request);
    v1::IndexPart part;
    std::vector<uint64_t> tags;
    while (reader->Read(&part)) {
      if (!part.has_chunk()) continue;
      const std::string& packed = part.chunk().added_tags();
      for (size_t i = 0; i + 8 <= packed.size(); i += 8) {
        uint64_t t = 0;
        for (size_t k = 0; k < 8; ++k) {
          t = (t << 8) | static_cast<unsigned char>(packed[i + k]);
        }
        tags.push_back(t);
      }
    }
    grpc::Status s = reader->Finish();
    if (!s.ok()) {
      return absl::Status(static_cast<absl::StatusCode>(s.error_code()),
                          s.error_message());
    }
    return tags;
  }
  // The tag of the username under MK's key in `file`.
  uint64_t TagUnder(const std::string& file) {
    std::string hex = Slurp(file);
    while (!hex.empty() && (hex.back() == '\n' || hex.back() == ' ')) {
      hex.pop_back();
    }
    auto scalar = HexDecode(hex);
    EXPECT_TRUE(scalar.ok()) << file;
    auto key = crypto::OprfServerKey::FromPrivateBytes(*scalar);
    EXPECT_TRUE(key.ok()) << key.status();
    auto input = identifiers::NormalizedOprfInput(
        v1::IDENTIFIER_TYPE_TELEGRAM_USERNAME, kUsername);
    auto y = key->Evaluate(*input);
    return identifiers::TagOf(*y);
  }

  std::unique_ptr<Federation> fed_;
};

TEST_F(OprfRotationTest, QueriesHitBeforeDuringAndAfterAndNoOldTagIsServed) {
  int hits = 0, pending = 0;
  // Before: the next key is being staged; MK answers with its epoch 1 key.
  ExpectHitOrPending(QueryMk(), &hits, &pending);
  ASSERT_EQ(hits, 1) << "RS's copy of MK's index was synced";
  const auto deadline_for = [](int seconds) {
    return std::chrono::steady_clock::now() +
           Scaled(std::chrono::seconds(seconds));
  };
  auto deadline = deadline_for(60);
  while (!absl::StrContains(Slurp(fed_->LogOf("MK")), "pass=done") &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(
      absl::StrContains(Slurp(fed_->LogOf("MK")), "oprf-rotation-progress"));

  // During: governance lists the new key; RS keeps asking.
  PublishEpoch2();
  deadline = deadline_for(60);
  bool switched = false, rs_adopted = false;
  int after_switch_hits = 0;
  while (std::chrono::steady_clock::now() < deadline && after_switch_hits < 2) {
    ExpectHitOrPending(QueryMk(), &hits, &pending);
    switched = switched || absl::StrContains(Slurp(fed_->LogOf("MK")),
                                             "oprf-rotation-complete");
    rs_adopted = rs_adopted || DirectoryVersion("RS") >= 2;
    if (switched && rs_adopted) {
      v1::PeerAnswer a = QueryMk();
      if (a.outcome() == v1::PEER_OUTCOME_HIT) ++after_switch_hits;
      ExpectHitOrPending(a, &hits, &pending);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  // After: hits again, under epoch 2.
  EXPECT_TRUE(switched);
  EXPECT_TRUE(rs_adopted);
  EXPECT_EQ(after_switch_hits, 2);
  printf("queries for MK's case: %d hits, %d pending answers, no miss\n", hits,
         pending);

  // MK serves no tag of the old epoch: epoch 1 is refused, epoch 2's index
  // holds the new tag only.
  const uint64_t old_tag = TagUnder(fed_->NodeDir("MK") + "/oprf.key");
  const uint64_t new_tag = TagUnder(NextKeyPath());
  auto old_index = MkTags(1);
  EXPECT_EQ(old_index.status().code(), absl::StatusCode::kFailedPrecondition)
      << old_index.status();
  auto new_index = MkTags(2);
  ASSERT_TRUE(new_index.ok()) << new_index.status();
  EXPECT_EQ(*new_index, std::vector<uint64_t>({new_tag}));
  EXPECT_NE(old_tag, new_tag);
}

}  // namespace
}  // namespace cbx::testing
