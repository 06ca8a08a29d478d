#include "node/audit_trail.h"

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
}

}  // namespace

absl::Status AuditTrail::Envelope(v1::AuditDirection direction,
                                  const std::string& peer, std::string_view rpc,
                                  const v1::Envelope& envelope,
                                  absl::StatusCode code, AuditCounts counts) {
  if (log_ == nullptr) return damage_;
  v1::AuditEntry entry;
  entry.set_direction(direction);
  entry.set_peer(peer);
  entry.set_rpc(std::string(rpc));
  entry.set_envelope_sha256(envelope::EnvelopeSha256(envelope));
  v1::Message message;
  if (message.ParseFromString(envelope.body())) {
    entry.set_kind(envelope::KindName(message.kind_case()));
    const v1::Header& h = message.header();
    // Only well-formed ids: the log holds nothing a sender could stuff.
    if (h.message_id().size() == 16) entry.set_message_id(h.message_id());
    if (h.in_reply_to().size() == 16) entry.set_in_reply_to(h.in_reply_to());
    if (h.office().size() <= 128) entry.set_office(h.office());
    if (h.user().size() <= 128) entry.set_user(h.user());
  }
  SetOutcome(entry, code, counts);
  auto appended = log_->Append(std::move(entry));
  return appended.ok() ? absl::OkStatus() : appended.status();
}

absl::Status AuditTrail::Call(v1::AuditDirection direction,
                              const std::string& peer, std::string_view rpc,
                              std::string_view kind, const std::string& office,
                              absl::StatusCode code, AuditCounts counts,
                              const std::string& envelope_sha256) {
  if (log_ == nullptr) return damage_;
  v1::AuditEntry entry;
  entry.set_direction(direction);
  entry.set_peer(peer);
  entry.set_rpc(std::string(rpc));
  entry.set_kind(std::string(kind));
  entry.set_office(office);
  entry.set_envelope_sha256(envelope_sha256);
  SetOutcome(entry, code, counts);
  auto appended = log_->Append(std::move(entry));
  return appended.ok() ? absl::OkStatus() : appended.status();
}

}  // namespace cbx::node
