#include "node/audit_trail.h"

#include <vector>

#include "cbx/v1/message.pb.h"
#include "core/envelope/envelope.h"

namespace cbx::node {
namespace {

void SetOutcome(v1::AuditEntry& entry, absl::StatusCode code,
                const AuditCounts& counts) {
  v1::AuditOutcome* outcome = entry.mutable_outcome();
  outcome->set_status_code(static_cast<int32_t>(code));
  outcome->set_elements(counts.elements);
  outcome->set_hits(counts.hits);
  outcome->set_references(counts.references);
  outcome->set_cooperation_type(counts.cooperation_type);
  outcome->set_cooperation_code(counts.cooperation_code);
  outcome->set_withdrawal_code(counts.withdrawal_code);
  outcome->set_response_due_ms(counts.response_due_ms);
  outcome->set_receipt_due_ms(counts.receipt_due_ms);
  outcome->set_calls(counts.calls);
}

// An entry for an envelope whose body parsed as `message` (null: it did
// not parse) and whose EnvelopeSha256 is `sha256`.
v1::AuditEntry EnvelopeEntry(v1::AuditDirection direction,
                             const std::string& peer, std::string_view rpc,
                             const Bytes& sha256, const v1::Message* message,
                             absl::StatusCode code, const AuditCounts& counts) {
  v1::AuditEntry entry;
  entry.set_direction(direction);
  entry.set_peer(peer);
  entry.set_rpc(std::string(rpc));
  entry.set_envelope_sha256(sha256);
  if (message != nullptr) {
    entry.set_kind(envelope::KindName(message->kind_case()));
    const v1::Header& h = message->header();
    // Only well-formed ids: the log holds nothing a sender could stuff.
    if (h.message_id().size() == 16) entry.set_message_id(h.message_id());
    if (h.in_reply_to().size() == 16) entry.set_in_reply_to(h.in_reply_to());
    if (h.office().size() <= 128) entry.set_office(h.office());
    if (h.user().size() <= 128) entry.set_user(h.user());
  }
  SetOutcome(entry, code, counts);
  return entry;
}

v1::AuditEntry EnvelopeEntry(v1::AuditDirection direction,
                             const std::string& peer, std::string_view rpc,
                             const v1::Envelope& envelope,
                             absl::StatusCode code, const AuditCounts& counts) {
  v1::Message message;
  const bool parsed = message.ParseFromString(envelope.body());
  return EnvelopeEntry(direction, peer, rpc, envelope::EnvelopeSha256(envelope),
                       parsed ? &message : nullptr, code, counts);
}

// The production sink: the node's audit log.
class LogSink final : public AuditSink {
 public:
  explicit LogSink(audit::AuditLog* log) : log_(log) {}
  absl::StatusOr<uint64_t> Append(v1::AuditEntry entry) override {
    return log_->Append(std::move(entry));
  }
  absl::StatusOr<uint64_t> AppendAll(
      std::vector<v1::AuditEntry> entries) override {
    return log_->AppendAll(std::move(entries));
  }
  absl::Status Health() const override { return log_->Health(); }

 private:
  audit::AuditLog* log_;
};

}  // namespace

AuditTrail::AuditTrail(audit::AuditLog* log)
    : log_(log), owned_(std::make_unique<LogSink>(log)), sink_(owned_.get()) {}

AuditTrail::~AuditTrail() = default;

absl::Status AuditTrail::Envelope(v1::AuditDirection direction,
                                  const std::string& peer, std::string_view rpc,
                                  const v1::Envelope& envelope,
                                  absl::StatusCode code, AuditCounts counts,
                                  const std::string& user) {
  if (sink_ == nullptr) return damage_;
  v1::AuditEntry entry =
      EnvelopeEntry(direction, peer, rpc, envelope, code, counts);
  if (!user.empty()) entry.set_user(user);
  auto appended = sink_->Append(std::move(entry));
  return appended.ok() ? absl::OkStatus() : appended.status();
}

absl::Status AuditTrail::Exchange(const std::string& peer, std::string_view rpc,
                                  const envelope::OpenedEnvelope& request,
                                  absl::StatusCode code,
                                  const AuditCounts& counts,
                                  const v1::Envelope* reply,
                                  const AuditCounts* reply_counts) {
  if (sink_ == nullptr) return damage_;
  std::vector<v1::AuditEntry> entries;
  entries.reserve(2);
  entries.push_back(EnvelopeEntry(v1::AUDIT_DIRECTION_RECEIVED, peer, rpc,
                                  request.envelope_sha256, &request.message,
                                  code, counts));
  if (reply != nullptr) {
    entries.push_back(EnvelopeEntry(
        v1::AUDIT_DIRECTION_SENT, peer, rpc, *reply, absl::StatusCode::kOk,
        reply_counts != nullptr ? *reply_counts : counts));
  }
  auto appended = sink_->AppendAll(std::move(entries));
  return appended.ok() ? absl::OkStatus() : appended.status();
}

absl::Status AuditTrail::Call(v1::AuditDirection direction,
                              const std::string& peer, std::string_view rpc,
                              std::string_view kind, const std::string& office,
                              absl::StatusCode code, AuditCounts counts,
                              const std::string& envelope_sha256,
                              const std::string& user) {
  if (sink_ == nullptr) return damage_;
  v1::AuditEntry entry;
  entry.set_direction(direction);
  entry.set_peer(peer);
  entry.set_rpc(std::string(rpc));
  entry.set_kind(std::string(kind));
  entry.set_office(office);
  entry.set_user(user);
  entry.set_envelope_sha256(envelope_sha256);
  SetOutcome(entry, code, counts);
  auto appended = sink_->Append(std::move(entry));
  return appended.ok() ? absl::OkStatus() : appended.status();
}

absl::Status AuditTrail::RetentionSweep(const v1::RetentionCounts& counts) {
  if (sink_ == nullptr) return damage_;
  v1::AuditEntry entry;
  entry.set_direction(v1::AUDIT_DIRECTION_LOCAL);
  entry.set_rpc("Node.RetentionSweep");
  entry.set_kind("retention_sweep");
  *entry.mutable_outcome()->mutable_retention() = counts;
  auto appended = sink_->Append(std::move(entry));
  return appended.ok() ? absl::OkStatus() : appended.status();
}

}  // namespace cbx::node
