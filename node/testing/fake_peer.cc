#include "node/testing/fake_peer.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/crypto/sha256.h"
#include "core/directory/testing/test_federation.h"
#include "core/envelope/envelope.h"
#include "core/identifiers/identifiers.h"
#include "core/logcheck/log_keys.h"
#include "core/merkle/proof_builder.h"
#include "core/note/checkpoint.h"
#include "core/note/note.h"
#include "core/note/signer.h"
#include "core/util/status_macros.h"
#include "node/checkpoints.h"
#include "node/lookup_responder.h"
#include "node/tag_index.h"

namespace cbx::node::testing {
namespace {

namespace fed = ::cbx::directory::testing;

bool IsTestMember(const std::string& code) {
  return code == "MK" || code == "RS" || code == "AL";
}

std::string ExtraCode(int i) {
  return std::string{static_cast<char>('B' + i / 26),
                     static_cast<char>('A' + i % 26)};
}

void Flip(std::string& bytes) {
  if (bytes.empty()) bytes.push_back('\0');
  bytes[bytes.size() / 2] ^= 0x01;
}

}  // namespace

crypto::Ed25519PrivateKey FakeNodeKey(const std::string& code) {
  return fed::TestKey(code + "/node/1");
}

crypto::OprfServerKey FakeOprfKey(const std::string& code) {
  if (IsTestMember(code)) {
    auto key =
        crypto::OprfServerKey::FromPrivateBytes(fed::TestOprfScalar(code, 1));
    if (!key.ok()) std::abort();
    return *std::move(key);
  }
  auto key = crypto::OprfServerKey::DeriveKeyPair(
      crypto::Sha256("cbx fake peer oprf " + code), "cbx fake peer");
  if (!key.ok()) std::abort();
  return *std::move(key);
}

v1::SignedDirectory FakeGenesis(int extra_members) {
  v1::Directory d = fed::GenesisDirectory();
  for (int i = 0; i < extra_members; ++i) {
    const std::string code = ExtraCode(i);
    v1::Member m = fed::TestMember("RS");  // RS's CA: any parseable one
    m.set_code(code);
    m.set_display_name(code);
    m.set_endpoint(absl::StrCat("cbx.", code, ".example:7443"));
    m.set_governance_key(
        fed::TestKey(code + "/governance/1").public_key().bytes());
    m.mutable_node_keys(0)->set_public_key(
        FakeNodeKey(code).public_key().bytes());
    m.mutable_oprf_key()->set_public_key(FakeOprfKey(code).public_key());
    *d.add_members() = std::move(m);
  }
  return fed::SignAs(d, {{"MK", "MK/governance/1"}, {"RS", "RS/governance/1"}});
}

v1::SignedDirectory FakeV4WithoutOldNodeKeys() {
  v1::Directory d = fed::V3Directory();
  d.set_version(4);
  d.set_issued_at_ms(fed::kV3IssuedAtMs + 86'400'000);
  for (v1::Member& m : *d.mutable_members()) {
    if (m.code() != "MK" && m.code() != "RS") continue;
    m.mutable_node_keys()->erase(m.mutable_node_keys()->begin());
  }
  return fed::SignAs(d, {{"MK", "MK/governance/1"}, {"RS", "RS/governance/2"}});
}

struct FakePeers::Member {
  Member(std::string c)
      : code(std::move(c)), key(FakeNodeKey(code)), oprf(FakeOprfKey(code)) {}
  const std::string code;
  crypto::Ed25519PrivateKey key;  // SetNodeKey may replace it
  const crypto::OprfServerKey oprf;
  FakeBehaviour behaviour = FakeBehaviour::kAnswer;
  FakeBehaviour resolve_behaviour = FakeBehaviour::kAnswer;
  absl::Status refusal;
  int64_t delay_ms = 0;
  std::vector<Case> cases;
  // Index versions served: version -> sorted tags (version 0: empty).
  std::map<uint64_t, std::vector<Tag>> index{{0, {}}};
  uint64_t version = 0;
  merkle::InMemoryTree log;
  uint32_t log_generation = 1;
  FakeLog log_mode = FakeLog::kHonest;
  uint64_t shrunk_size = 0;
  std::vector<std::string> cosignatures;
  std::vector<v1::SignedDirectory> directories;
  std::map<std::string, int> calls;
  std::vector<int64_t> budgets;
  std::optional<FakeServedIndex> served_index;
  int index_parts_delivered = 0;
  bool index_stream_stopped = false;
  bool compressed_only = false;
  size_t last_element_size = 0;
};

FakePeers::FakePeers(const v1::SignedDirectory& genesis, std::string self,
                     FakeClock* clock)
    : self_(std::move(self)), clock_(clock) {
  v1::Directory d;
  if (!d.ParseFromString(genesis.directory())) std::abort();
  for (const v1::Member& m : d.members()) {
    if (m.code() == self_) continue;
    members_.emplace(m.code(), std::make_unique<Member>(m.code()));
  }
}

FakePeers::~FakePeers() { Release(); }

FakePeers::Member* FakePeers::Find(const std::string& code) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = members_.find(code);
  return it == members_.end() ? nullptr : it->second.get();
}

void FakePeers::SetBehaviour(const std::string& member, FakeBehaviour behaviour,
                             absl::Status refusal, int64_t delay_ms) {
  Member* m = Find(member);
  std::lock_guard<std::mutex> lock(mu_);
  m->behaviour = behaviour;
  m->refusal = std::move(refusal);
  m->delay_ms = delay_ms;
}

void FakePeers::SetResolveBehaviour(const std::string& member,
                                    FakeBehaviour behaviour) {
  Member* m = Find(member);
  std::lock_guard<std::mutex> lock(mu_);
  m->resolve_behaviour = behaviour;
}

void FakePeers::CloseCases(const std::string& member) {
  Member* m = Find(member);
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Tag> tags = m->index[m->version];
  for (const Case& c : m->cases) {
    tags.erase(std::remove(tags.begin(), tags.end(), identifiers::TagOf(c.y)),
               tags.end());
  }
  m->cases.clear();
  m->index[++m->version] = std::move(tags);
}

void FakePeers::SetCompressedOnly(const std::string& member,
                                  bool compressed_only) {
  Member* m = Find(member);
  std::lock_guard<std::mutex> lock(mu_);
  m->compressed_only = compressed_only;
}

size_t FakePeers::LastElementSize(const std::string& member) {
  Member* m = Find(member);
  std::lock_guard<std::mutex> lock(mu_);
  return m->last_element_size;
}

void FakePeers::Release() {
  std::lock_guard<std::mutex> lock(mu_);
  released_ = true;
  released_cv_.notify_all();
}

void FakePeers::OnEvaluate(
    std::function<void(const std::string& member)> hook) {
  std::lock_guard<std::mutex> lock(mu_);
  on_evaluate_ = std::move(hook);
}

void FakePeers::AddCase(const std::string& member,
                        const std::string& oprf_input, v1::IdentifierType type,
                        const v1::CaseReference& reference) {
  Member* m = Find(member);
  auto y = m->oprf.Evaluate(oprf_input);
  if (!y.ok()) std::abort();
  std::lock_guard<std::mutex> lock(mu_);
  m->cases.push_back({*y, type, reference});
  std::vector<Tag> tags = m->index[m->version];
  tags.push_back(identifiers::TagOf(*y));
  std::sort(tags.begin(), tags.end());
  tags.erase(std::unique(tags.begin(), tags.end()), tags.end());
  m->index[++m->version] = std::move(tags);
}

std::vector<Tag> FakePeers::IndexTags(const std::string& member) {
  Member* m = Find(member);
  std::lock_guard<std::mutex> lock(mu_);
  return m->index[m->version];
}

uint64_t FakePeers::IndexVersion(const std::string& member) {
  Member* m = Find(member);
  std::lock_guard<std::mutex> lock(mu_);
  return m->version;
}

void FakePeers::SetNodeKey(const std::string& member,
                           crypto::Ed25519PrivateKey key) {
  Member* m = Find(member);
  std::lock_guard<std::mutex> lock(mu_);
  m->key = std::move(key);
}

void FakePeers::AppendToLog(const std::string& member, int count) {
  Member* m = Find(member);
  std::lock_guard<std::mutex> lock(mu_);
  for (int i = 0; i < count; ++i) {
    m->log.AppendLeaf(absl::StrCat(member, " entry ", m->log.size()));
  }
}

void FakePeers::SetLog(const std::string& member, FakeLog log,
                       uint64_t shrunk_size) {
  Member* m = Find(member);
  std::lock_guard<std::mutex> lock(mu_);
  m->log_mode = log;
  m->shrunk_size = shrunk_size;
}

void FakePeers::StartLogGeneration(const std::string& member,
                                   uint32_t generation) {
  Member* m = Find(member);
  std::lock_guard<std::mutex> lock(mu_);
  m->log = merkle::InMemoryTree();
  m->log_generation = generation;
  m->log_mode = FakeLog::kHonest;
}

std::vector<std::string> FakePeers::Cosignatures(const std::string& member) {
  Member* m = Find(member);
  std::lock_guard<std::mutex> lock(mu_);
  return m->cosignatures;
}

void FakePeers::ServeDirectories(const std::string& member,
                                 std::vector<v1::SignedDirectory> versions) {
  Member* m = Find(member);
  std::lock_guard<std::mutex> lock(mu_);
  m->directories = std::move(versions);
}

int FakePeers::Calls(const std::string& member, const std::string& rpc) {
  Member* m = Find(member);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = m->calls.find(rpc);
  return it == m->calls.end() ? 0 : it->second;
}

int FakePeers::PeakInFlight() {
  std::lock_guard<std::mutex> lock(mu_);
  return peak_in_flight_;
}

void FakePeers::WaitForInFlight(int n) {
  std::unique_lock<std::mutex> lock(mu_);
  released_cv_.wait(lock, [&] { return in_flight_ >= n; });
}

std::vector<int64_t> FakePeers::Budgets(const std::string& member) {
  Member* m = Find(member);
  std::lock_guard<std::mutex> lock(mu_);
  return m->budgets;
}

absl::Status FakePeers::Enter(Member& m, const std::string& rpc,
                              int64_t budget_ms) {
  FakeBehaviour behaviour;
  absl::Status refusal;
  int64_t delay_ms;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++m.calls[rpc];
    m.budgets.push_back(budget_ms);
    peak_in_flight_ = std::max(peak_in_flight_, ++in_flight_);
    released_cv_.notify_all();
    behaviour = m.behaviour;
    refusal = m.refusal;
    delay_ms = m.delay_ms;
  }
  const absl::Status late = absl::DeadlineExceededError("Deadline Exceeded");
  if (budget_ms <= 0) return late;
  switch (behaviour) {
    case FakeBehaviour::kRefuse:
      return refusal;
    case FakeBehaviour::kDelay:
      clock_->AdvanceMs(std::min(delay_ms, budget_ms));
      return delay_ms >= budget_ms ? late : absl::OkStatus();
    case FakeBehaviour::kHang: {
      std::unique_lock<std::mutex> lock(mu_);
      released_cv_.wait(lock, [this] { return released_; });
      return late;
    }
    default:
      return absl::OkStatus();
  }
}

void FakePeers::Leave() {
  std::lock_guard<std::mutex> lock(mu_);
  --in_flight_;
  released_cv_.notify_all();
}

// Leaves on every path out of a call.
#define FAKE_ENTER(m, rpc, budget)          \
  RETURN_IF_ERROR(([&] {                    \
    absl::Status s = Enter(m, rpc, budget); \
    if (!s.ok()) Leave();                   \
    return s;                               \
  })());                                    \
  struct LeaveOnExit {                      \
    FakePeers* self;                        \
    ~LeaveOnExit() { self->Leave(); }       \
  } leave_on_exit {                         \
    this                                    \
  }

absl::StatusOr<v1::Message> FakePeers::OpenRequest(
    const v1::Envelope& request) {
  v1::Message msg;
  if (!msg.ParseFromString(request.body())) {
    return absl::InvalidArgumentError("the request body does not parse");
  }
  return msg;
}

v1::Envelope FakePeers::Answer(Member& m, const v1::Message& request,
                               v1::Message reply, bool resolve) {
  FakeBehaviour behaviour;
  {
    std::lock_guard<std::mutex> lock(mu_);
    behaviour = m.behaviour;
    if (resolve && m.resolve_behaviour != FakeBehaviour::kAnswer) {
      behaviour = m.resolve_behaviour;
    }
  }
  const Member* signer = &m;
  if (behaviour == FakeBehaviour::kWrongMember) {
    for (const auto& [code, other] : members_) {
      if (code != m.code) {
        signer = other.get();
        break;
      }
    }
  }
  *reply.mutable_header() =
      envelope::MakeHeader(signer->code, {self_}, *clock_, 60'000);
  reply.mutable_header()->set_in_reply_to(request.header().message_id());
  if (behaviour == FakeBehaviour::kNotAReply) {
    Flip(*reply.mutable_header()->mutable_in_reply_to());
  }
  v1::Envelope sealed = envelope::Seal(reply, signer->key);
  if (behaviour == FakeBehaviour::kGarbage) {
    // Signed as it is, so only the body's parse fails.
    sealed.set_body("\xff\xff\xff not a message");
    sealed.set_signature(
        signer->key.Sign(envelope::EnvelopeSigningInput(sealed.body())));
  }
  if (behaviour == FakeBehaviour::kUnopenable) {
    Flip(*sealed.mutable_signature());
  }
  return sealed;
}

absl::StatusOr<v1::Envelope> FakePeers::Evaluate(const std::string& member,
                                                 const v1::Envelope& request,
                                                 int64_t budget_ms) {
  Member* m = Find(member);
  if (m == nullptr) return absl::NotFoundError(member + " is no member");
  FAKE_ENTER(*m, "Evaluate", budget_ms);
  std::function<void(const std::string&)> hook;
  {
    std::lock_guard<std::mutex> lock(mu_);
    hook = on_evaluate_;
  }
  if (hook) hook(member);
  ASSIGN_OR_RETURN(v1::Message msg, OpenRequest(request));
  std::vector<Bytes> blinded(msg.evaluate_request().blinded_elements().begin(),
                             msg.evaluate_request().blinded_elements().end());
  FakeBehaviour behaviour;
  bool compressed_only;
  {
    std::lock_guard<std::mutex> lock(mu_);
    behaviour = m->behaviour;
    compressed_only = m->compressed_only;
    m->last_element_size = blinded.empty() ? 0 : blinded[0].size();
  }
  if (compressed_only && !blinded.empty() &&
      blinded[0].size() != crypto::kP256ElementSize) {
    // An older node's refusal (L3).
    return absl::InvalidArgumentError(
        "blinded_elements: element 0: P-256 element must be a 33-byte "
        "compressed point");
  }
  ASSIGN_OR_RETURN(crypto::BlindEvaluation eval,
                   m->oprf.BlindEvaluate(blinded));
  if (behaviour == FakeBehaviour::kWrongCount) {
    eval.evaluated_elements.pop_back();
  }
  if (behaviour == FakeBehaviour::kTooMany) {
    eval.evaluated_elements.push_back(eval.evaluated_elements.front());
  }
  if (behaviour == FakeBehaviour::kBadProof) Flip(eval.proof);
  v1::Message reply;
  v1::EvaluateResponse* resp = reply.mutable_evaluate_response();
  resp->set_oprf_epoch(1);
  for (const Bytes& e : eval.evaluated_elements)
    resp->add_evaluated_elements(e);
  resp->set_proof(eval.proof);
  resp->set_uncompressed_accepted(!compressed_only);
  return Answer(*m, msg, std::move(reply));
}

absl::StatusOr<v1::Envelope> FakePeers::Resolve(const std::string& member,
                                                const v1::Envelope& request,
                                                int64_t budget_ms) {
  Member* m = Find(member);
  if (m == nullptr) return absl::NotFoundError(member + " is no member");
  FAKE_ENTER(*m, "Resolve", budget_ms);
  ASSIGN_OR_RETURN(v1::Message msg, OpenRequest(request));
  const v1::ResolveRequest& req = msg.resolve_request();
  v1::Message reply;
  v1::ResolveResponse* resp = reply.mutable_resolve_response();
  std::unique_lock<std::mutex> lock(mu_);
  resp->set_index_version(m->version);
  for (const Case& c : m->cases) {
    v1::CaseReference* ref = nullptr;
    for (int i = 0; i < req.outputs_size(); ++i) {
      if (req.outputs(i) != c.y) continue;
      if (ref == nullptr) {
        ref = resp->add_references();
        *ref = c.reference;
        ref->clear_matched();
      }
      v1::MatchedIdentifier* matched = ref->add_matched();
      // The case's observed window, if the reference given to AddCase
      // holds one in a matched entry.
      if (c.reference.matched_size() > 0) *matched = c.reference.matched(0);
      matched->set_type(c.type);
      matched->set_input_index(i);
    }
  }
  Corrupt(*m, m->resolve_behaviour, *resp);
  lock.unlock();
  return Answer(*m, msg, std::move(reply), /*resolve=*/true);
}

void FakePeers::Corrupt(const Member& m, FakeBehaviour behaviour,
                        v1::ResolveResponse& resp) {
  const std::string other = m.code == "AL" ? "RS" : "AL";
  switch (behaviour) {
    case FakeBehaviour::kPhantom:
      resp.clear_references();
      break;
    case FakeBehaviour::kPhantomOlder:
      resp.clear_references();
      resp.set_index_version(m.version == 0 ? 0 : m.version - 1);
      break;
    case FakeBehaviour::kPhantomNewer:
      resp.clear_references();
      resp.set_index_version(m.version + 1);
      break;
    case FakeBehaviour::kForeignMember:
      for (v1::CaseReference& r : *resp.mutable_references()) {
        r.set_member(other);
        r.set_competent_office(other + "/PPO");
      }
      break;
    case FakeBehaviour::kForeignOffice:
      for (v1::CaseReference& r : *resp.mutable_references()) {
        r.set_competent_office(other + "/PPO");
      }
      break;
    case FakeBehaviour::kBadInputIndex:
      for (v1::CaseReference& r : *resp.mutable_references()) {
        for (v1::MatchedIdentifier& mi : *r.mutable_matched()) {
          mi.set_input_index(1u << 20);
        }
      }
      break;
    default:
      break;
  }
}

absl::Status FakePeers::SyncIndex(
    const std::string& member, const v1::Envelope& request, int64_t budget_ms,
    const std::function<bool(v1::IndexPart&&)>& on_part) {
  Member* m = Find(member);
  if (m == nullptr) return absl::NotFoundError(member + " is no member");
  FAKE_ENTER(*m, "SyncIndex", budget_ms);
  ASSIGN_OR_RETURN(v1::Message msg, OpenRequest(request));
  const uint64_t since = msg.index_request().since_version();
  v1::Message manifest_msg;
  // Added tags in chunks (as lookup_responder sends them), then the removed
  // ones in the first chunk.
  std::vector<Tag> added, removed;
  size_t per_chunk = kTagsPerChunk;
  size_t trailing_bytes = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    m->index_parts_delivered = 0;
    m->index_stream_stopped = false;
    v1::IndexManifest* manifest = manifest_msg.mutable_index_manifest();
    manifest->set_member(member);
    manifest->set_oprf_epoch(msg.index_request().oprf_epoch());
    if (m->served_index.has_value()) {
      const FakeServedIndex& served = *m->served_index;
      added = ServedTags(served.tags);
      manifest->set_version(served.version);
      manifest->set_count(served.claimed_count.value_or(added.size()));
      manifest->set_digest(IndexDigest(added));
      manifest->set_full(true);
      if (served.manifest_member) manifest->set_member(*served.manifest_member);
      if (served.manifest_epoch)
        manifest->set_oprf_epoch(*served.manifest_epoch);
      per_chunk = std::max<size_t>(1, served.tags_per_chunk);
      trailing_bytes = served.trailing_bytes;
    } else {
      const std::vector<Tag>& now = m->index[m->version];
      manifest->set_version(m->version);
      manifest->set_count(now.size());
      manifest->set_digest(IndexDigest(now));
      auto before = since == 0 ? m->index.end() : m->index.find(since);
      if (before == m->index.end()) {
        manifest->set_full(true);
        added = now;
      } else {
        manifest->set_from_version(since);
        std::set_difference(now.begin(), now.end(), before->second.begin(),
                            before->second.end(), std::back_inserter(added));
        std::set_difference(before->second.begin(), before->second.end(),
                            now.begin(), now.end(),
                            std::back_inserter(removed));
      }
    }
    if (m->behaviour == FakeBehaviour::kBadDigest) {
      Flip(*manifest->mutable_digest());
    }
  }
  auto deliver = [&](v1::IndexPart&& part) {
    const bool more = on_part(std::move(part));
    std::lock_guard<std::mutex> lock(mu_);
    ++m->index_parts_delivered;
    m->index_stream_stopped = !more;
    return more;
  };
  v1::IndexPart first;
  *first.mutable_manifest() = Answer(*m, msg, std::move(manifest_msg));
  if (!deliver(std::move(first))) return absl::CancelledError("stopped");
  for (size_t i = 0; i < added.size() || (i == 0 && !removed.empty());
       i += per_chunk) {
    v1::IndexPart part;
    const size_t end = std::min(added.size(), i + per_chunk);
    part.mutable_chunk()->set_added_tags(PackTags(added, i, end));
    if (i == 0) {
      part.mutable_chunk()->mutable_added_tags()->append(trailing_bytes, 'x');
      part.mutable_chunk()->set_removed_tags(
          PackTags(removed, 0, removed.size()));
    }
    if (!deliver(std::move(part))) return absl::CancelledError("stopped");
  }
  return absl::OkStatus();
}

void FakePeers::ServeIndex(const std::string& member,
                           std::optional<FakeServedIndex> index) {
  Member* m = Find(member);
  if (m == nullptr) std::abort();
  std::lock_guard<std::mutex> lock(mu_);
  m->served_index = std::move(index);
}

std::vector<Tag> FakePeers::ServedTags(uint64_t n) {
  std::vector<Tag> tags(n);
  // Distinct and ascending, spread over the whole range.
  for (uint64_t i = 0; i < n; ++i) tags[i] = (i + 1) * 0x0000010000000001ull;
  return tags;
}

int FakePeers::IndexPartsDelivered(const std::string& member) {
  Member* m = Find(member);
  if (m == nullptr) std::abort();
  std::lock_guard<std::mutex> lock(mu_);
  return m->index_parts_delivered;
}

bool FakePeers::IndexStreamStopped(const std::string& member) {
  Member* m = Find(member);
  if (m == nullptr) std::abort();
  std::lock_guard<std::mutex> lock(mu_);
  return m->index_stream_stopped;
}

void FakePeers::OnCooperate(CooperateHandler handler) {
  std::lock_guard<std::mutex> lock(mu_);
  on_cooperate_ = std::move(handler);
}

absl::StatusOr<v1::Envelope> FakePeers::Cooperate(const std::string& member,
                                                  const v1::Envelope& request,
                                                  int64_t budget_ms) {
  Member* m = Find(member);
  if (m == nullptr) return absl::NotFoundError(member + " is no member");
  FAKE_ENTER(*m, "Cooperate", budget_ms);
  CooperateHandler handler;
  {
    std::lock_guard<std::mutex> lock(mu_);
    handler = on_cooperate_;
  }
  if (handler == nullptr) {
    return absl::UnimplementedError("the fake peers do not cooperate");
  }
  return handler(member, request);
}

void FakePeers::OnWithdraw(CooperateHandler handler) {
  std::lock_guard<std::mutex> lock(mu_);
  on_withdraw_ = std::move(handler);
}

absl::StatusOr<v1::Envelope> FakePeers::Withdraw(const std::string& member,
                                                 const v1::Envelope& request,
                                                 int64_t budget_ms) {
  Member* m = Find(member);
  if (m == nullptr) return absl::NotFoundError(member + " is no member");
  FAKE_ENTER(*m, "Withdraw", budget_ms);
  CooperateHandler handler;
  {
    std::lock_guard<std::mutex> lock(mu_);
    handler = on_withdraw_;
  }
  if (handler == nullptr) {
    return absl::UnimplementedError("the fake peers do not withdraw");
  }
  return handler(member, request);
}

absl::StatusOr<v1::GetDirectoryResponse> FakePeers::GetDirectory(
    const std::string& member, const v1::GetDirectoryRequest& request,
    int64_t budget_ms) {
  Member* m = Find(member);
  if (m == nullptr) return absl::NotFoundError(member + " is no member");
  FAKE_ENTER(*m, "GetDirectory", budget_ms);
  v1::GetDirectoryResponse resp;
  std::lock_guard<std::mutex> lock(mu_);
  for (const v1::SignedDirectory& v : m->directories) {
    v1::Directory d;
    if (d.ParseFromString(v.directory()) &&
        d.version() > request.since_version()) {
      *resp.add_versions() = v;
    }
  }
  return resp;
}

absl::StatusOr<std::string> FakePeers::SignedCheckpoint(Member& m,
                                                        uint64_t size,
                                                        bool fork_root) {
  note::Checkpoint cp;
  cp.origin = logcheck::LogOrigin(m.code, m.log_generation);
  cp.size = size;
  ASSIGN_OR_RETURN(cp.root_hash, merkle::RootHash(m.log, size));
  if (fork_root) cp.root_hash = crypto::Sha256("forked " + cp.root_hash);
  ASSIGN_OR_RETURN(std::string text, note::FormatCheckpoint(cp));
  ASSIGN_OR_RETURN(note::NoteSigner signer,
                   note::NoteSigner::Create(cp.origin, m.key));
  note::Note note;
  note.text = text;
  ASSIGN_OR_RETURN(note::Signature sig, signer.Sign(text));
  note.signatures.push_back(sig);
  return note::FormatNote(note);
}

absl::StatusOr<v1::GetCheckpointResponse> FakePeers::GetCheckpoint(
    const std::string& member, const v1::GetCheckpointRequest& request,
    int64_t budget_ms) {
  Member* m = Find(member);
  if (m == nullptr) return absl::NotFoundError(member + " is no member");
  FAKE_ENTER(*m, "GetCheckpoint", budget_ms);
  std::lock_guard<std::mutex> lock(mu_);
  const uint64_t size =
      m->log_mode == FakeLog::kShrunk ? m->shrunk_size : m->log.size();
  const uint64_t since = request.since_size();
  if (since > size) {
    return absl::FailedPreconditionError(
        absl::StrCat("this log has ", size,
                     " entries in its latest checkpoint, not ", since));
  }
  v1::GetCheckpointResponse resp;
  ASSIGN_OR_RETURN(
      std::string note,
      SignedCheckpoint(*m, size, m->log_mode == FakeLog::kForkRoot));
  resp.set_checkpoint(note);
  if (since > 0 && since < size) {
    ASSIGN_OR_RETURN(std::vector<Bytes> proof,
                     merkle::ConsistencyProof(m->log, since, size));
    if (m->log_mode == FakeLog::kBadProof) {
      if (proof.empty()) proof.push_back(Bytes(32, 'x'));
      Flip(proof.front());
    }
    for (Bytes& h : proof) resp.add_consistency_proof(std::move(h));
  }
  return resp;
}

absl::StatusOr<v1::AddCosignatureResponse> FakePeers::AddCosignature(
    const std::string& member, const v1::AddCosignatureRequest& request,
    int64_t budget_ms) {
  Member* m = Find(member);
  if (m == nullptr) return absl::NotFoundError(member + " is no member");
  FAKE_ENTER(*m, "AddCosignature", budget_ms);
  std::lock_guard<std::mutex> lock(mu_);
  m->cosignatures.push_back(request.cosigned_checkpoint());
  v1::AddCosignatureResponse resp;
  resp.set_cosignatures(static_cast<uint32_t>(m->cosignatures.size()));
  return resp;
}

}  // namespace cbx::node::testing
