#include "core/report/report_signature.h"

#include "core/directory/testing/test_federation.h"
#include "gtest/gtest.h"

namespace cbx::report {
namespace {

namespace t = directory::testing;

v1::Report SampleReport() {
  v1::Report r;
  r.set_member("RS");
  r.set_month("2026-01");
  r.set_signed_at_ms(t::kNowMs);
  v1::ReportFigure* f = r.add_figures();
  f->set_name("queries_sent");
  f->set_value(7);
  return r;
}

std::shared_ptr<const directory::Directory> Genesis() {
  return *directory::Directory::FromGenesis(t::SignedGenesis());
}

TEST(ReportSignatureTest, SignedByTheNodeKeyVerifies) {
  crypto::Ed25519Signer signer(t::TestKey("RS/node/1"));
  absl::StatusOr<v1::SignedReport> s = SignReport(SampleReport(), signer);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->key_id(), t::TestKeyId("RS/node/1"));
  absl::StatusOr<v1::Report> r = VerifySignedReport(*s, *Genesis());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->figures(0).value(), 7u);
}

TEST(ReportSignatureTest, AlteredFigureOrOtherKeyIsRefused) {
  crypto::Ed25519Signer signer(t::TestKey("RS/node/1"));
  v1::SignedReport s = *SignReport(SampleReport(), signer);
  v1::Report altered = SampleReport();
  altered.mutable_figures(0)->set_value(8);
  v1::SignedReport tampered = s;
  tampered.set_report(altered.SerializeAsString());
  EXPECT_EQ(VerifySignedReport(tampered, *Genesis()).status().code(),
            absl::StatusCode::kUnauthenticated);
  // MK's key signing a report that claims to be RS's.
  crypto::Ed25519Signer mk(t::TestKey("MK/node/1"));
  v1::SignedReport forged = *SignReport(SampleReport(), mk);
  EXPECT_EQ(VerifySignedReport(forged, *Genesis()).status().code(),
            absl::StatusCode::kUnauthenticated);
  // An envelope signature is not a report signature: the labels differ.
  v1::SignedReport relabeled = s;
  relabeled.set_signature(*signer.Sign("cbx/v1/envelope" + std::string(1, '\0') +
                                       s.report()));
  EXPECT_EQ(VerifySignedReport(relabeled, *Genesis()).status().code(),
            absl::StatusCode::kUnauthenticated);
  v1::SignedReport garbage = s;
  garbage.set_report("\xff\xff");
  EXPECT_EQ(VerifySignedReport(garbage, *Genesis()).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace cbx::report
