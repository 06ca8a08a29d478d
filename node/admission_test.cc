// The receiver's checks of an admitted peer request that the envelope
// checks leave to it (node/admission.h): the header's office and the
// purpose's bounds. PeerService::Admit runs them on every peer request.
#include "node/admission.h"

#include <string>

#include "gtest/gtest.h"

namespace cbx::node {
namespace {

v1::Message Request(v1::Message::KindCase kind, const std::string& office) {
  v1::Message m;
  m.mutable_header()->set_sender("RS");
  m.mutable_header()->set_office(office);
  v1::Purpose* purpose = nullptr;
  switch (kind) {
    case v1::Message::kEvaluateRequest:
      purpose = m.mutable_evaluate_request()->mutable_purpose();
      break;
    case v1::Message::kResolveRequest:
      purpose = m.mutable_resolve_request()->mutable_purpose();
      break;
    default:
      m.mutable_index_request();
  }
  if (purpose != nullptr) {
    purpose->set_case_number("RS-77");
    purpose->set_legal_basis("MLA-Convention-1959 Art.1");
    purpose->set_offence(v1::OFFENCE_CODE_NCII_SHARING);
  }
  return m;
}

TEST(AdmissionTest, IsOfficeOf) {
  EXPECT_TRUE(IsOfficeOf("RS/PPO-Belgrade", "RS"));
  EXPECT_TRUE(IsOfficeOf("RS/" + std::string(64, 'a'), "RS"));
  EXPECT_FALSE(IsOfficeOf("RS/" + std::string(65, 'a'), "RS"));
  EXPECT_FALSE(IsOfficeOf("MK/PPO-Skopje", "RS"));
  EXPECT_FALSE(IsOfficeOf("RS/", "RS"));
  EXPECT_FALSE(IsOfficeOf("RS", "RS"));
  EXPECT_FALSE(IsOfficeOf("RSX/PPO", "RS"));
  EXPECT_FALSE(IsOfficeOf("RS/PPO/x", "RS"));
  EXPECT_FALSE(IsOfficeOf("RS/PPO\nALERT", "RS"));
  EXPECT_FALSE(IsOfficeOf("", "RS"));
}

// Threat: a peer names another country's office as the asking one.
TEST(AdmissionTest, TheOfficeMustBeTheSendersOwn) {
  for (auto kind :
       {v1::Message::kEvaluateRequest, v1::Message::kResolveRequest}) {
    EXPECT_TRUE(CheckPeerRequest(Request(kind, "RS/PPO-Belgrade")).ok());
    // Empty: the office is informative (spec/envelope.md §2).
    EXPECT_TRUE(CheckPeerRequest(Request(kind, "")).ok());
    for (const char* office : {"MK/PPO-Skopje", "RS/", "RS/PPO\nALERT-x"}) {
      absl::Status s = CheckPeerRequest(Request(kind, office));
      EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << office;
      EXPECT_NE(s.message().find("header.office: not an office of RS"),
                std::string::npos)
          << s;
    }
  }
  // An index request is the node's own: no office, or one of its own.
  EXPECT_TRUE(CheckPeerRequest(Request(v1::Message::kIndexRequest, "")).ok());
  EXPECT_EQ(
      CheckPeerRequest(Request(v1::Message::kIndexRequest, "MK/PPO")).code(),
      absl::StatusCode::kInvalidArgument);
}

// Threat: an unbounded legal basis, or one that starts a log line.
TEST(AdmissionTest, PurposeTextIsBounded) {
  v1::Message m = Request(v1::Message::kResolveRequest, "RS/PPO");
  m.mutable_resolve_request()->mutable_purpose()->set_legal_basis(
      std::string(256, 'x'));
  EXPECT_TRUE(CheckPeerRequest(m).ok());
  m.mutable_resolve_request()->mutable_purpose()->set_legal_basis(
      std::string(4 << 20, 'x'));
  absl::Status s = CheckPeerRequest(m);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "purpose.legal_basis: at most 256 bytes, not 4194304");

  m = Request(v1::Message::kEvaluateRequest, "RS/PPO");
  m.mutable_evaluate_request()->mutable_purpose()->set_case_number(
      std::string(65, '1'));
  s = CheckPeerRequest(m);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "purpose.case_number: at most 64 bytes, not 65");
}

// Issue 11 point 8: a peer request without a purpose was answered.
TEST(AdmissionTest, APurposeIsRequired) {
  for (auto kind :
       {v1::Message::kEvaluateRequest, v1::Message::kResolveRequest}) {
    v1::Message m = Request(kind, "RS/PPO");
    v1::Purpose* p = kind == v1::Message::kEvaluateRequest
                         ? m.mutable_evaluate_request()->mutable_purpose()
                         : m.mutable_resolve_request()->mutable_purpose();
    const v1::Purpose full = *p;
    p->clear_case_number();
    EXPECT_EQ(CheckPeerRequest(m).message(), "purpose.case_number is required");
    *p = full;
    p->clear_legal_basis();
    EXPECT_EQ(CheckPeerRequest(m).message(), "purpose.legal_basis is required");
    *p = full;
    p->set_offence(static_cast<v1::OffenceCode>(999));
    EXPECT_EQ(CheckPeerRequest(m).code(), absl::StatusCode::kInvalidArgument);
    p->clear_offence();
    EXPECT_EQ(CheckPeerRequest(m).message(),
              "purpose.offence: 0 is not an offence code "
              "(spec/offence-codes.md)");
  }
}

TEST(AdmissionTest, PurposeTextIsUtf8WithoutControls) {
  v1::Purpose p;
  p.set_case_number("RS-77");
  p.set_legal_basis("Zakonik o krivičnom postupku čl. 1");  // UTF-8
  EXPECT_TRUE(CheckPurposeText(p).ok());
  p.set_legal_basis("CPC\n2026-01-01 ALERT-inconsistent-checkpoint");
  EXPECT_EQ(CheckPurposeText(p).message(),
            "purpose.legal_basis: control character U+000A is not allowed");
  p.set_legal_basis("CPC \x7f");
  EXPECT_EQ(CheckPurposeText(p).code(), absl::StatusCode::kInvalidArgument);
  p.set_legal_basis("CPC \xc2\x85");  // U+0085, a C1 control
  EXPECT_EQ(CheckPurposeText(p).message(),
            "purpose.legal_basis: control character U+0085 is not allowed");
  p.set_legal_basis("ok");
  p.set_case_number("RS\xff");
  EXPECT_EQ(CheckPurposeText(p).message(),
            "purpose.case_number: not valid UTF-8 at byte 2");
  for (const char* bad :
       {"\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "ab\xe2\x82"}) {
    p.set_case_number(bad);  // overlong, surrogate, > U+10FFFF, truncated
    EXPECT_EQ(CheckPurposeText(p).code(), absl::StatusCode::kInvalidArgument)
        << bad;
  }
  p.set_case_number("\xf0\x9f\x98\x80");  // U+1F600
  EXPECT_TRUE(CheckPurposeText(p).ok());
  // Emptiness is the querier's rule, not this check's.
  EXPECT_TRUE(CheckPurposeText(v1::Purpose()).ok());
}

}  // namespace
}  // namespace cbx::node
