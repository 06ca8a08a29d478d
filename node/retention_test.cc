#include "node/retention.h"

#include <algorithm>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/directory/testing/test_federation.h"
#include "core/util/status_macros.h"
#include "gtest/gtest.h"
#include "node/cases.h"
#include "node/config.h"
#include "node/lookup_responder.h"
#include "node/node_signing_keys.h"
#include "node/testing/case_fixture.h"

namespace cbx::node {
namespace {

using directory::testing::SignedGenesis;
using directory::testing::TestKey;
using testing::kOffice;
using testing::NewCase;

constexpr int64_t kDayMs = 86'400'000;

class RetentionTest : public testing::DomainFixture {
 protected:
  RetentionTest() { config_.batch_size = 2; }

  // A fresh sweeper (as after a restart) over the fixture's state.
  std::unique_ptr<Retention> Sweeper() {
    return std::make_unique<Retention>("MK", &storage_, &trail_, &clock_,
                                       config_, &metrics_);
  }
  v1::RetentionCounts Sweep() {
    auto counts = Sweeper()->Sweep();
    EXPECT_TRUE(counts.ok()) << counts.status();
    return counts.ok() ? *counts : v1::RetentionCounts();
  }
  std::vector<v1::AuditEntry> SweepEntries() {
    std::vector<v1::AuditEntry> out;
    for (const v1::AuditEntry& e : sink_.entries()) {
      if (e.rpc() == "Node.RetentionSweep") out.push_back(e);
    }
    return out;
  }
  void AddCase(const std::string& number,
               const std::vector<std::string>& usernames) {
    auto added = book_.Add(kOffice, NewCase(number, usernames));
    ASSERT_TRUE(added.ok()) << added.status();
  }
  void CloseCase(const std::string& number) {
    auto closed = book_.Close(kOffice, number);
    ASSERT_TRUE(closed.ok()) << closed.status();
  }
  size_t IdentifiersOf(const std::string& number) {
    auto c = storage_.GetCase(number);
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? c->identifiers.size() : 0;
  }
  void AddHit(int64_t at_ms) {
    v1::Hit h;
    h.set_member("RS");
    h.set_case_number("MK-Q-1");
    h.set_received_at_ms(at_ms);
    ASSERT_TRUE(storage_.AddHit(h).ok());
  }
  void AddNotification(int64_t at_ms) {
    v1::Notification n;
    n.set_from_member("RS");
    n.set_case_number("PPO-1");
    n.set_at_ms(at_ms);
    ASSERT_TRUE(storage_.AddNotification(n).ok());
  }
  size_t Hits() {
    auto page = storage_.ListHits("");
    return page.ok() ? page->items.size() : 0;
  }
  size_t Inbox() {
    auto page = storage_.ListNotifications("");
    return page.ok() ? page->items.size() : 0;
  }

  RetentionConfig config_;
  MetricsRegistry metrics_;
  CaseBook book_{"MK", &storage_, &oprf_key_, &trail_, &clock_};
};

TEST_F(RetentionTest, ClosedCaseIdentifiersGoExactlyAfterTheirPeriod) {
  const int64_t period = config_.closed_case_identifiers_days * kDayMs;
  AddCase("PPO-1", {"@closed_one"});
  AddCase("PPO-2", {"@open_two"});
  clock_.AdvanceMs(10 * kDayMs);
  CloseCase("PPO-1");
  const int64_t closed_at = clock_.NowMs();

  // At the end of the period, not yet.
  clock_.SetMs(closed_at + period);
  EXPECT_EQ(Sweep().closed_cases(), 0u);
  EXPECT_EQ(IdentifiersOf("PPO-1"), 1u);
  // Past it: stripped; the open case, older still, is never touched.
  clock_.SetMs(closed_at + period + 1);
  EXPECT_EQ(Sweep().closed_cases(), 1u);
  EXPECT_EQ(IdentifiersOf("PPO-1"), 0u);
  EXPECT_EQ(IdentifiersOf("PPO-2"), 1u);
  EXPECT_EQ(OwnTags(), std::vector<Tag>{TagOf("@open_two")});
  // The tombstone still reads as the closed case it was.
  auto tomb = book_.Get("PPO-1");
  ASSERT_TRUE(tomb.ok()) << tomb.status();
  EXPECT_EQ(tomb->status(), v1::CASE_STATUS_CLOSED);
  EXPECT_EQ(tomb->identifiers_size(), 0);
  EXPECT_EQ(tomb->updated_at_ms(), closed_at);
  // Nothing left to do: no more counts.
  EXPECT_EQ(Sweep().closed_cases(), 0u);
}

TEST_F(RetentionTest, TheClosedPeriodRunsFromTheClosingNotTheLastAmendment) {
  const int64_t period = config_.closed_case_identifiers_days * kDayMs;
  AddCase("PPO-1", {"@amended"});
  const int64_t opened = clock_.NowMs();
  clock_.AdvanceMs(period);  // open for a whole period: kept
  v1::AmendCaseRequest amend;
  amend.set_case_number("PPO-1");
  *amend.add_add_identifiers() = testing::Username("@amended_too");
  ASSERT_TRUE(book_.Amend(kOffice, amend).ok());
  clock_.SetMs(opened + 2 * period);
  EXPECT_EQ(Sweep().closed_cases(), 0u);
  EXPECT_EQ(IdentifiersOf("PPO-1"), 2u);
  CloseCase("PPO-1");
  const int64_t closed_at = clock_.NowMs();
  clock_.SetMs(closed_at + period);
  EXPECT_EQ(Sweep().closed_cases(), 0u);
  clock_.SetMs(closed_at + period + 1);
  EXPECT_EQ(Sweep().closed_cases(), 1u);
  // A closed case cannot be amended or reopened, and its number stays
  // taken: it never comes back with its identifiers.
  EXPECT_EQ(book_.Amend(kOffice, amend).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(book_.Add(kOffice, NewCase("PPO-1", {"@again"})).status().code(),
            absl::StatusCode::kAlreadyExists);
}

TEST_F(RetentionTest, ReferencesAndInboxGoExactlyAfterTheirPeriods) {
  const int64_t t0 = clock_.NowMs();
  AddHit(t0);
  AddHit(t0 + kDayMs);
  AddNotification(t0);
  const int64_t refs = config_.received_references_days * kDayMs;
  const int64_t inbox = config_.inbox_days * kDayMs;
  clock_.SetMs(t0 + std::min(refs, inbox));
  v1::RetentionCounts none = Sweep();
  EXPECT_EQ(none.received_references() + none.inbox_entries(), 0u);
  EXPECT_EQ(Hits(), 2u);
  clock_.SetMs(t0 + refs + 1);
  EXPECT_EQ(Sweep().received_references(), 1u);
  EXPECT_EQ(Hits(), 1u);
  clock_.SetMs(t0 + inbox + 1);
  Sweep();
  EXPECT_EQ(Inbox(), 0u);
}

TEST_F(RetentionTest, ShorterConfiguredPeriodsApply) {
  config_.received_references_days = 7;
  config_.inbox_days = 3;
  const int64_t t0 = clock_.NowMs();
  AddHit(t0);
  AddNotification(t0);
  clock_.SetMs(t0 + 3 * kDayMs + 1);
  v1::RetentionCounts c = Sweep();
  EXPECT_EQ(c.inbox_entries(), 1u);
  EXPECT_EQ(c.received_references(), 0u);
  clock_.SetMs(t0 + 7 * kDayMs + 1);
  EXPECT_EQ(Sweep().received_references(), 1u);
}

TEST_F(RetentionTest, ReplayRowsGoOnceExpired) {
  const int64_t now = clock_.NowMs();
  ASSERT_TRUE(storage_.RecordMessageId("RS", "id-1", now + 1000).ok());
  ASSERT_TRUE(storage_.RecordMessageId("RS", "id-2", now + 5000).ok());
  EXPECT_EQ(Sweep().replay_entries(), 0u);
  clock_.SetMs(now + 1001);
  EXPECT_EQ(Sweep().replay_entries(), 1u);
  EXPECT_EQ(storage_.RecordMessageId("RS", "id-2", now + 9000).code(),
            absl::StatusCode::kAlreadyExists);
}

// Withdrawals (spec/cooperation.md §2.4): a tombstone goes
// received_references_days after its withdrawal once its reference is
// deleted; an ended withdrawal closed_case_identifiers_days after the
// close; a pending one and a still-kept reference stay. Both counted in
// the sweep's entry.
TEST_F(RetentionTest, WithdrawalTombstonesAndEndedWithdrawalsAreSwept) {
  const int64_t t0 = clock_.NowMs();
  auto tombstone = [&](char token, int64_t deleted_at_ms) {
    return WithdrawnReference{.member = "RS",
                              .case_token = Bytes(16, token),
                              .reason = v1::WITHDRAWAL_REASON_CLOSED,
                              .withdrawn_at_ms = t0,
                              .kept_until_ms = deleted_at_ms == 0 ? t0 + 1 : 0,
                              .deleted_at_ms = deleted_at_ms};
  };
  auto queued = [&](char token, int64_t next, bool given_up) {
    QueuedWithdrawal w;
    w.case_token = Bytes(16, token);
    w.member = "RS";
    w.case_number = "PPO-1";
    w.office = kOffice;
    w.reason = v1::WITHDRAWAL_REASON_CLOSED;
    w.queued_at_ms = t0;
    w.next_attempt_ms = next;
    w.given_up = given_up;
    if (next == 0 && !given_up) w.receipt = "receipt";
    return w;
  };
  ASSERT_TRUE(
      storage_
          .ReadWriteTransaction([&](StorageTransaction& txn) {
            RETURN_IF_ERROR(txn.PutWithdrawnReference(tombstone('d', t0)));
            RETURN_IF_ERROR(txn.PutWithdrawnReference(tombstone('k', 0)));
            RETURN_IF_ERROR(txn.QueueWithdrawal(queued('a', 0, false)));
            RETURN_IF_ERROR(txn.QueueWithdrawal(queued('g', 0, true)));
            return txn.QueueWithdrawal(queued('p', t0 + 1, false));
          })
          .ok());
  // Both periods are 730 days by default: at their end, nothing yet.
  ASSERT_EQ(config_.received_references_days,
            config_.closed_case_identifiers_days);
  clock_.SetMs(t0 + config_.received_references_days * kDayMs);
  v1::RetentionCounts c = Sweep();
  EXPECT_EQ(c.withdrawn_references(), 0u);
  EXPECT_EQ(c.withdrawals(), 0u);
  clock_.AdvanceMs(1);
  c = Sweep();
  EXPECT_EQ(c.withdrawn_references(), 1u);  // 'd'; 'k' is still kept
  EXPECT_EQ(c.withdrawals(), 2u);           // 'a' and 'g'; 'p' is pending
  absl::StatusOr<std::vector<QueuedWithdrawal>> left =
      storage_.ListWithdrawals();
  ASSERT_TRUE(left.ok());
  ASSERT_EQ(left->size(), 1u);
  EXPECT_EQ((*left)[0].case_token, Bytes(16, 'p'));
  std::vector<v1::AuditEntry> entries = SweepEntries();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].outcome().retention().withdrawn_references(), 1u);
  EXPECT_EQ(entries[0].outcome().retention().withdrawals(), 2u);
}

TEST_F(RetentionTest, OneAuditEntryOfCountsPerSweepThatDeleted) {
  const int64_t t0 = clock_.NowMs();
  for (int i = 0; i < 5; ++i) AddHit(t0 + i);  // 3 batches of 2
  AddNotification(t0);
  clock_.SetMs(t0 + 800 * kDayMs);
  Sweep();
  std::vector<v1::AuditEntry> entries = SweepEntries();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].direction(), v1::AUDIT_DIRECTION_LOCAL);
  EXPECT_EQ(entries[0].kind(), "retention_sweep");
  EXPECT_EQ(entries[0].outcome().status_code(), 0);
  EXPECT_EQ(entries[0].outcome().retention().received_references(), 5u);
  EXPECT_EQ(entries[0].outcome().retention().inbox_entries(), 1u);
  EXPECT_EQ(entries[0].outcome().retention().closed_cases(), 0u);
  // Nothing deleted: no entry.
  Sweep();
  EXPECT_EQ(SweepEntries().size(), 1u);
  // The kept counts were cleared with the append.
  auto kept = storage_.GetSetting(kRetentionPendingSetting);
  ASSERT_TRUE(kept.ok());
  EXPECT_TRUE(!kept->has_value() || (*kept)->empty());
}

TEST_F(RetentionTest, CountsDeletedBeforeAFailedAppendGoInTheNextEntry) {
  const int64_t t0 = clock_.NowMs();
  AddHit(t0);
  AddHit(t0 + 1);
  clock_.SetMs(t0 + 800 * kDayMs);
  sink_.FailAppends(absl::UnavailableError("disk full"));
  auto failed = Sweeper()->Sweep();
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kUnavailable);
  // Deleted, and the counts kept in node.db: as after a crash between the
  // last batch and the entry.
  EXPECT_EQ(Hits(), 0u);
  EXPECT_TRUE(SweepEntries().empty());
  sink_.FailAppends(absl::OkStatus());
  AddNotification(t0);
  Sweep();  // a new sweeper, as after a restart
  std::vector<v1::AuditEntry> entries = SweepEntries();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].outcome().retention().received_references(), 2u);
  EXPECT_EQ(entries[0].outcome().retention().inbox_entries(), 1u);
}

TEST_F(RetentionTest, AFailedBatchDeletesNothingAndTheNextSweepFinishes) {
  AddCase("PPO-1", {"@closed"});
  CloseCase("PPO-1");
  AddHit(clock_.NowMs());
  clock_.AdvanceMs(800 * kDayMs);
  storage_.FailNextCommit(absl::UnavailableError("I/O error"));
  auto failed = Sweeper()->Sweep();
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(IdentifiersOf("PPO-1"), 1u);
  EXPECT_EQ(Hits(), 1u);
  EXPECT_TRUE(SweepEntries().empty());
  v1::RetentionCounts c = Sweep();
  EXPECT_EQ(c.closed_cases(), 1u);
  EXPECT_EQ(c.received_references(), 1u);
  ASSERT_EQ(SweepEntries().size(), 1u);
}

TEST_F(RetentionTest, AStopLeavesTheRestForTheNextSweep) {
  const int64_t t0 = clock_.NowMs();
  for (int i = 0; i < 4; ++i) AddHit(t0 + i);
  clock_.SetMs(t0 + 800 * kDayMs);
  std::unique_ptr<Retention> r = Sweeper();
  r->RequestStop();
  auto stopped = r->Sweep();
  ASSERT_TRUE(stopped.ok());
  EXPECT_EQ(Hits(), 4u);
  EXPECT_EQ(r->last_sweep_ms(), 0);
  EXPECT_EQ(Sweep().received_references(), 4u);
}

TEST_F(RetentionTest, MetricsCountEachCategoryAndTheLastSweep) {
  std::unique_ptr<Retention> r = Sweeper();
  std::string text = metrics_.Render();
  EXPECT_NE(
      text.find("cbx_retention_deleted_total{category=\"inbox_entries\"} 0"),
      std::string::npos)
      << text;
  AddHit(clock_.NowMs());
  AddHit(clock_.NowMs());
  clock_.AdvanceMs(800 * kDayMs);
  ASSERT_TRUE(r->Sweep().ok());
  EXPECT_EQ(r->last_sweep_ms(), clock_.NowMs());
  text = metrics_.Render();
  EXPECT_NE(
      text.find(
          "cbx_retention_deleted_total{category=\"received_references\"} 2"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("cbx_retention_last_sweep_timestamp_seconds " +
                      FormatMetricValue(clock_.NowMs() / 1000.0)),
            std::string::npos)
      << text;
}

// The change log and a peer's copy: a peer that last synced before the
// horizon is sent the full index and ends with exactly the owner's tags.
class RetentionIndexTest : public RetentionTest {
 protected:
  RetentionIndexTest()
      : directory_(*directory::Directory::FromGenesis(SignedGenesis())),
        signing_keys_(NodeSigningKeys::Single("MK", TestKey("MK/node/1"),
                                              &directory_, &clock_)),
        responder_(LookupResponder::Deps{
            .self = "MK",
            .directory = &directory_,
            .oprf_key = &oprf_key_,
            .signing_keys = signing_keys_.get(),
            .storage = &storage_,
            .trail = &trail_,
            .clock = &clock_,
        }) {}

  // RS's copy of MK's index, at `version_`, brought up to date by one
  // SyncIndex from that version; returns whether the answer was full.
  bool PeerSyncs() {
    v1::Message m;
    m.mutable_header()->set_sender("RS");
    m.mutable_header()->set_message_id(std::string(16, char(++sent_)));
    m.mutable_index_request()->set_oprf_epoch(1);
    m.mutable_index_request()->set_since_version(version_);
    envelope::OpenedEnvelope opened;
    opened.message = std::move(m);
    opened.envelope_sha256 = std::string(32, char(sent_));
    auto answer = responder_.SyncIndex(opened);
    EXPECT_TRUE(answer.ok()) << answer.status();
    if (!answer.ok()) return false;
    if (answer->full) copy_.clear();
    for (Tag t : answer->removed) copy_.erase(t);
    for (Tag t : answer->TagsToSend()) copy_.insert(t);
    version_ = answer->snapshot->version;
    return answer->full;
  }
  std::vector<Tag> Copy() const { return {copy_.begin(), copy_.end()}; }

  directory::DirectoryState directory_;
  std::unique_ptr<NodeSigningKeys> signing_keys_;
  LookupResponder responder_;
  int sent_ = 0;
  uint64_t version_ = 0;
  std::set<Tag> copy_;
};

TEST_F(RetentionIndexTest, APeerFromBeforeTheHorizonGetsTheFullIndex) {
  const int64_t horizon = config_.index_change_log_days * kDayMs;
  AddCase("PPO-1", {"@user_one"});
  AddCase("PPO-2", {"@user_two"});
  EXPECT_TRUE(PeerSyncs());  // first copy: full, at version 2
  Sweep();                   // marks version 2 now
  CloseCase("PPO-1");        // removes @user_one: version 3
  AddCase("PPO-3", {"@user_three"});
  // Within the horizon: nothing compacted; a delta still serves.
  clock_.AdvanceMs(horizon);
  EXPECT_EQ(Sweep().index_changes(), 0u);
  auto changes = storage_.OwnIndexChangesSince(1);
  ASSERT_TRUE(changes.ok()) << changes.status();
  // Past it: the changes through version 2 go.
  clock_.AdvanceMs(1);
  EXPECT_EQ(Sweep().index_changes(), 2u);
  EXPECT_EQ(storage_.OwnIndexChangesSince(1).status().code(),
            absl::StatusCode::kFailedPrecondition);
  // RS held version 2 — exactly the compaction point — so a delta works.
  EXPECT_FALSE(PeerSyncs());
  EXPECT_EQ(Copy(), OwnTags());

  // A peer still at version 1 (before the horizon) gets the full index,
  // without the removed @user_one, and ends identical.
  version_ = 1;
  copy_ = {TagOf("@user_one")};
  EXPECT_TRUE(PeerSyncs());
  EXPECT_EQ(Copy(), OwnTags());
  EXPECT_EQ(copy_.count(TagOf("@user_one")), 0u);
}

// The `retention` config section: defaults, and bad values refused with a
// message naming the field and the range.
constexpr char kConfig[] = R"({
  "member": "MK",
  "data_dir": "data",
  "peer_listen": "127.0.0.1:7101",
  "office_listen": "127.0.0.1:7201",
  "tls": {"certificate": "node.crt", "private_key": "node.key",
          "office_ca": "ca.crt"},
  "keys": {"node_signing_key": "s.key", "oprf_key": "oprf.key"},
  "directory": {"genesis": "genesis.pb"}RETENTION
})";

absl::StatusOr<Config> WithRetention(const std::string& section) {
  std::string text = kConfig;
  text.replace(text.find("RETENTION"), 9,
               section.empty() ? "" : ", \"retention\": " + section);
  return ParseConfig(text, "/srv/cbx", "node.json");
}

TEST(RetentionConfigTest, DefaultsAndValues) {
  auto defaults = WithRetention("");
  ASSERT_TRUE(defaults.ok()) << defaults.status();
  EXPECT_EQ(defaults->retention.closed_case_identifiers_days, 730);
  EXPECT_EQ(defaults->retention.index_change_log_days, 30);
  EXPECT_EQ(defaults->retention.sweep_interval_ms, 3'600'000);
  auto set = WithRetention(
      R"({"closed_case_identifiers_days": 365, "inbox_days": 90,
          "received_references_days": 180, "index_change_log_days": 7,
          "sweep_interval_ms": 600000, "batch_size": 200})");
  ASSERT_TRUE(set.ok()) << set.status();
  EXPECT_EQ(set->retention.closed_case_identifiers_days, 365);
  EXPECT_EQ(set->retention.inbox_days, 90);
  EXPECT_EQ(set->retention.received_references_days, 180);
  EXPECT_EQ(set->retention.index_change_log_days, 7);
  EXPECT_EQ(set->retention.sweep_interval_ms, 600000);
  EXPECT_EQ(set->retention.batch_size, 200);
}

TEST(RetentionConfigTest, BadValuesAreRefusedSayingWhy) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"inbox_dayz": 30})",
       "node.json: retention.inbox_dayz: unknown field (retention has: "},
      {R"(30)", "node.json: retention: must be a JSON object"},
      {R"({"inbox_days": 0})",
       "node.json: retention.inbox_days: must be between 1 and 36500 days, "
       "not 0"},
      {R"({"closed_case_identifiers_days": -5})",
       "retention.closed_case_identifiers_days: must be between 1 and 36500 "
       "days, not -5"},
      {R"({"index_change_log_days": "30"})",
       "retention.index_change_log_days: must be an integer"},
      {R"({"received_references_days": 1.5})",
       "retention.received_references_days: must be an integer"},
      {R"({"sweep_interval_ms": 10})",
       "retention.sweep_interval_ms: must be between 1000 and 86400000 "
       "milliseconds, not 10"},
      {R"({"batch_size": 0})",
       "retention.batch_size: must be between 1 and 100000 rows, not 0"},
  };
  for (const auto& [section, message] : cases) {
    auto c = WithRetention(section);
    EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument) << section;
    EXPECT_NE(c.status().message().find(message), std::string::npos)
        << section << " -> " << c.status();
  }
}

}  // namespace
}  // namespace cbx::node
