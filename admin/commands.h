// The cbx-admin commands, one function per command line verb, so that main()
// only parses arguments and tests can run a command without a process.
//
// Each command writes its result to `out` and warnings to `err`, and returns
// OK or the error to report (main prints it and exits 1). Nothing is written
// to disk when a command fails. Thread-compatible: commands touch only the
// files they are given.
#ifndef CBX_ADMIN_COMMANDS_H_
#define CBX_ADMIN_COMMANDS_H_

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace cbx::admin {

struct KeyGenerateArgs {
  std::string kind;  // node | governance | oprf
  std::string out;
  bool json = false;
};
// Generates a key into a new file of mode 0600; prints its public key.
absl::Status KeyGenerate(const KeyGenerateArgs& args, std::ostream& out,
                         std::ostream& err);

struct KeyPublicArgs {
  std::string kind;
  std::string in;
  bool json = false;
};
// Prints the public key of a key file.
absl::Status KeyPublic(const KeyPublicArgs& args, std::ostream& out,
                       std::ostream& err);

struct DirectoryBuildArgs {
  std::string spec;
  std::string out;
  int64_t now_ms = 0;  // issued_at_ms when the spec does not set it
  // For an update: the version it follows. The spec's version then defaults
  // to previous + 1, and the update is checked against it (CheckSuccessor).
  std::string previous;
};
// Builds an unsigned directory from a federation spec.
absl::Status DirectoryBuild(const DirectoryBuildArgs& args, std::ostream& out,
                            std::ostream& err);

struct DirectorySignArgs {
  std::string in;
  std::string member;
  std::string key;
  std::string out;
  std::string previous;  // empty for a genesis
};
// Adds one member's governance signature.
absl::Status DirectorySign(const DirectorySignArgs& args, std::ostream& out,
                           std::ostream& err);

struct DirectoryProposeArgs {
  std::string current;  // the version in force (.pb)
  std::string changes;  // the change file (JSON)
  std::string out;      // the unsigned proposal (.pb)
  int64_t now_ms = 0;   // issued_at_ms unless the change file sets it
};
// Makes version current+1 from the current version and a change file,
// writes it unsigned, and prints what changes (DescribeDiff) for the
// governance key holders to read before they sign.
absl::Status DirectoryPropose(const DirectoryProposeArgs& args,
                              std::ostream& out, std::ostream& err);

struct DirectoryCosignArgs {
  std::string in;  // the proposal (.pb)
  std::string member;
  std::string key;       // the member's governance key file
  std::string previous;  // empty for a genesis
  std::string out;       // this member's own signature file (never replaced)
};
// Signs a proposal offline into a signature file of the signer's own
// (admin/signature_file.h), with the checks of `directory sign`.
absl::Status DirectoryCosign(const DirectoryCosignArgs& args, std::ostream& out,
                             std::ostream& err);

struct DirectoryCombineArgs {
  std::string in;  // the proposal (.pb)
  std::vector<std::string> signatures;
  std::string previous;  // empty for a genesis
  std::string out;       // the signed directory (.pb)
};
// Merges signature files into the proposal, checks each against the signing
// version and reports k of n; refuses (writing nothing) a duplicate, a
// non-member, a wrong key, a signature over other bytes, or too few.
absl::Status DirectoryCombine(const DirectoryCombineArgs& args,
                              std::ostream& out, std::ostream& err);

struct DirectoryVerifyArgs {
  std::string genesis;
  std::vector<std::string> updates;
  bool json = false;
};
// Verifies a genesis and updates in order. The report is printed also when
// verification fails; the returned error then says why.
absl::Status DirectoryVerify(const DirectoryVerifyArgs& args, std::ostream& out,
                             std::ostream& err);

struct DirectoryShowArgs {
  std::string in;
  std::string previous;  // optional: checks an update's signatures
  bool json = false;
};
// Prints a directory's summary.
absl::Status DirectoryShow(const DirectoryShowArgs& args, std::ostream& out,
                           std::ostream& err);

}  // namespace cbx::admin

#endif  // CBX_ADMIN_COMMANDS_H_
