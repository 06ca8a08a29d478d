// Fuzz target: bytes -> cbx.v1.SignedDirectory -> Directory::FromGenesis and
// Adopt against the test federation's v1 and v2
// (core/directory/testing/test_federation.h).
//
// Random bytes never carry valid governance signatures, so the target also
// re-signs the directory bytes with the keys each base version requires and
// verifies again: that drives the structural rules with arbitrary content.
// Whatever verifies must satisfy the invariants asserted below.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/directory/directory.h"
#include "core/directory/testing/test_federation.h"
#include "google/protobuf/stubs/logging.h"

namespace {

using namespace cbx;  // NOLINT: a fuzz target, not library code.

void Check(bool ok) {
  if (!ok) std::abort();
}

struct Fixture {
  Fixture()
      : mk_gov(directory::testing::TestKey("MK/governance/1")),
        rs_gov1(directory::testing::TestKey("RS/governance/1")),
        rs_gov2(directory::testing::TestKey("RS/governance/2")) {
    google::protobuf::SetLogHandler(nullptr);
    auto g =
        directory::Directory::FromGenesis(directory::testing::SignedGenesis());
    if (!g.ok()) std::abort();
    genesis = *g;
    auto two = genesis->Adopt(directory::testing::SignedV2());
    if (!two.ok()) std::abort();
    v2 = *two;
  }
  crypto::Ed25519PrivateKey mk_gov, rs_gov1, rs_gov2;
  std::shared_ptr<const directory::Directory> genesis, v2;
};

// Exercises the lookups of a verified directory and checks its invariants.
void Inspect(const directory::Directory& d) {
  Check(directory::ValidateStructure(d.proto()).ok());
  Check(d.policy().governance_threshold() >= 1);
  for (const v1::Member& m : d.proto().members()) {
    Check(d.FindMember(m.code()) == &m);
    Check(d.FindMemberByUri(directory::MemberUri(m.code())) == &m);
    for (const v1::NodeKey& k : m.node_keys()) {
      const Bytes id = directory::NodeKeyId(k.public_key());
      Check(d.FindMemberByKeyId(id) == &m);
      auto at = d.NodeKeyAt(m.code(), id, k.not_before_ms());
      Check(at.ok() && at->bytes() == k.public_key());
      if (k.not_after_ms() != 0) {
        Check(!d.NodeKeyAt(m.code(), id, k.not_after_ms()).ok());
      }
    }
  }
  Check(d.ActiveMemberCodes().size() <=
        static_cast<size_t>(d.proto().members_size()));
}

void TryAdopt(const directory::Directory& base, const v1::SignedDirectory& s) {
  auto next = base.Adopt(s);
  if (!next.ok()) return;
  Check((*next)->version() == base.version() + 1);
  Check((*next)->proto().federation() == base.proto().federation());
  Inspect(**next);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Fixture* f = new Fixture();
  v1::SignedDirectory s;
  if (!s.ParseFromArray(data, static_cast<int>(size))) return 0;

  auto g = directory::Directory::FromGenesis(s);
  if (g.ok()) {
    Check((*g)->version() == 1);
    Inspect(**g);
  }
  TryAdopt(*f->genesis, s);
  TryAdopt(*f->v2, s);

  // Re-signed with what each base requires: MK + RS for v1 (and for a
  // genesis made of the test keys), MK + RS's new key for v2.
  v1::SignedDirectory by_v1_keys;
  by_v1_keys.set_directory(s.directory());
  (void)directory::AddGovernanceSignature(by_v1_keys, "MK", f->mk_gov);
  (void)directory::AddGovernanceSignature(by_v1_keys, "RS", f->rs_gov1);
  if (auto g2 = directory::Directory::FromGenesis(by_v1_keys); g2.ok()) {
    Inspect(**g2);
  }
  TryAdopt(*f->genesis, by_v1_keys);
  v1::SignedDirectory by_v2_keys;
  by_v2_keys.set_directory(s.directory());
  (void)directory::AddGovernanceSignature(by_v2_keys, "MK", f->mk_gov);
  (void)directory::AddGovernanceSignature(by_v2_keys, "RS", f->rs_gov2);
  TryAdopt(*f->v2, by_v2_keys);
  return 0;
}
