#include "client/audit/commands.h"

#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "client/audit/export.h"
#include "client/audit/output.h"
#include "client/audit/reconcile.h"
#include "client/audit/report_check.h"
#include "client/audit/report_output.h"
#include "client/audit/state.h"
#include "client/audit/verify.h"
#include "client/audit_files.h"
#include "client/json_output.h"
#include "client/names.h"
#include "client/strings.h"
#include "core/logcheck/log_generation.h"
#include "core/note/note.h"
#include "grpcpp/client_context.h"

namespace cbx::client::audit {
namespace {

std::string Str(absl::string_view s) { return std::string(s.data(), s.size()); }

std::string Num(uint64_t n) { return std::to_string(n); }

constexpr char kUnwitnessedHint[] =
    "witnesses cosign a node's checkpoints when they next fetch them: retry "
    "later, or pass --allow-unwitnessed to accept a checkpoint signed by the "
    "node alone";

// One command's output channel and its failure reports.
class Run {
 public:
  Run(std::string command, bool json, std::ostream& out, std::ostream& err)
      : command_(std::move(command)), json_(json), out_(out), err_(err) {}

  // Prints "cbx: audit <command>: <message>" (and a hint) on stderr and,
  // with --json, {"verified": false, "error": ...} on stdout. Returns 1.
  int Fail(const std::string& message, const std::string& hint = "") {
    // One line per line of the message, each cleaned for the terminal.
    std::vector<std::string> lines = SplitLines(message);
    err_ << "cbx: audit " << command_ << ": " << SanitizeForTerminal(lines[0])
         << "\n";
    for (size_t i = 1; i < lines.size(); ++i) {
      err_ << SanitizeForTerminal(lines[i]) << "\n";
    }
    if (!hint.empty()) err_ << "hint: " << hint << "\n";
    err_ << std::flush;
    if (json_) {
      Json j;
      j["verified"] = false;
      j["error"] = message;
      out_ << JsonLine(j) << std::flush;
    }
    return kExitFailed;
  }

  int FailStatus(const absl::Status& status, const std::string& prefix = "",
                 const std::string& hint = "") {
    return Fail(prefix + Str(status.message()), hint);
  }

  // A failed call to the node.
  int FailRpc(const std::string& what, const grpc::Status& status,
              const ConnectionSettings& settings) {
    const std::string full = "audit " + command_ + ": " + what;
    std::string text;
    std::string message = SanitizeForTerminal(status.error_message());
    if (message.empty()) message = "(no message)";
    const std::string code = StatusCodeName(status.error_code());
    const std::string details =
        json_ ? "details: " + code + ": " + message + "\n" : "";
    switch (status.error_code()) {
      case grpc::StatusCode::PERMISSION_DENIED:
        text = "cbx: " + full + ": your certificate may not do this: " +
               message +
               "\nwhat to do: the audit commands need an auditor "
               "certificate (URI SAN spiffe://cbx/office/<CC>/<office>/"
               "auditor)\n" +
               details;
        break;
      case grpc::StatusCode::UNIMPLEMENTED:
        text = "cbx: " + full +
               ": this node does not serve the audit commands (it may run "
               "an older cbx-node)\nwhat to do: ask your node's operator "
               "which version the node runs\n" +
               details;
        break;
      default:
        text = DescribeRpcError(full, status, settings, json_);
        break;
    }
    err_ << text << std::flush;
    if (json_) {
      Json j;
      j["verified"] = false;
      j["error"] = what + ": " + code + ": " + status.error_message();
      out_ << JsonLine(j) << std::flush;
    }
    return kExitFailed;
  }

  void Print(const std::string& text, const Json& json) {
    if (json_) {
      out_ << JsonLine(json);
    } else {
      out_ << text;
    }
    out_ << std::flush;
  }

 private:
  std::string command_;
  bool json_;
  std::ostream& out_;
  std::ostream& err_;
};

// A fetch that failed has already been reported; `code` is the exit code.
template <typename T>
struct Fetched {
  std::optional<T> value;
  int code = kExitFailed;
  bool ok() const { return value.has_value(); }
};

template <typename T>
Fetched<T> Got(T value) {
  return Fetched<T>{std::move(value), kExitOk};
}

template <typename T>
Fetched<T> Failed(int code) {
  return Fetched<T>{std::nullopt, code};
}

Fetched<std::vector<v1::SignedDirectory>> FetchDirectoryVersions(
    CommandContext& ctx, Run& run) {
  grpc::ClientContext rpc;
  rpc.set_deadline(Deadline(ctx.settings));
  v1::AuditDirectoryResponse response;
  grpc::Status status =
      ctx.stub.AuditDirectory(&rpc, v1::AuditDirectoryRequest(), &response);
  if (!status.ok()) {
    return Failed<std::vector<v1::SignedDirectory>>(
        run.FailRpc("fetching the directory", status, ctx.settings));
  }
  return Got(std::vector<v1::SignedDirectory>(response.versions().begin(),
                                              response.versions().end()));
}

Fetched<VerifiedDirectory> FetchDirectory(CommandContext& ctx, Run& run,
                                          const AuditOptions& options) {
  auto versions = FetchDirectoryVersions(ctx, run);
  if (!versions.ok()) return Failed<VerifiedDirectory>(versions.code);
  auto dir = VerifyDirectoryChain(options.genesis, *versions.value);
  if (!dir.ok()) {
    return Failed<VerifiedDirectory>(
        run.FailStatus(dir.status(), "the node's directory: ",
                       "the chain must start at the genesis you pinned with "
                       "--genesis (CBX_GENESIS)"));
  }
  return Got(*std::move(dir));
}

// The node's latest checkpoint, verified (witnessed or not).
Fetched<CheckpointReport> FetchCheckpoint(CommandContext& ctx, Run& run,
                                          const VerifiedDirectory& dir,
                                          const AuditOptions& options) {
  grpc::ClientContext rpc;
  rpc.set_deadline(Deadline(ctx.settings));
  v1::AuditCheckpointResponse response;
  grpc::Status status =
      ctx.stub.AuditCheckpoint(&rpc, v1::AuditCheckpointRequest(), &response);
  if (!status.ok()) {
    return Failed<CheckpointReport>(
        run.FailRpc("fetching the checkpoint", status, ctx.settings));
  }
  if (response.member().empty()) {
    return Failed<CheckpointReport>(
        run.Fail("the node did not say whose log it keeps (member is empty)"));
  }
  auto report = VerifyCheckpoint(*dir.latest, response.member(),
                                 response.checkpoint(), options.now_ms);
  if (!report.ok()) {
    return Failed<CheckpointReport>(
        run.FailStatus(report.status(), "the node's checkpoint: "));
  }
  if (response.witness_threshold() != report->threshold) {
    report->warnings.push_back(
        "the node says witness_threshold " + Num(response.witness_threshold()) +
        ", directory version " + Num(report->directory_version) + " says " +
        Num(report->threshold) + "; the directory's value is used");
  }
  return Got(*std::move(report));
}

// The directory and the latest checkpoint; fails unless witnessed (or
// allowed not to be).
Fetched<CheckpointReport> FetchTrustworthyCheckpoint(
    CommandContext& ctx, Run& run, const AuditOptions& options,
    std::shared_ptr<const directory::Directory>* latest = nullptr) {
  auto dir = FetchDirectory(ctx, run, options);
  if (!dir.ok()) return Failed<CheckpointReport>(dir.code);
  if (latest != nullptr) *latest = dir.value->latest;
  auto report = FetchCheckpoint(ctx, run, *dir.value, options);
  if (!report.ok()) return report;
  if (!options.allow_unwitnessed) {
    if (absl::Status s = RequireWitnessed(*report.value); !s.ok()) {
      return Failed<CheckpointReport>(run.FailStatus(s, "", kUnwitnessedHint));
    }
  }
  return report;
}

Fetched<v1::AuditProofResponse> FetchConsistency(CommandContext& ctx, Run& run,
                                                 uint64_t size1,
                                                 uint64_t size2) {
  grpc::ClientContext rpc;
  rpc.set_deadline(Deadline(ctx.settings));
  v1::AuditConsistencyRequest request;
  request.set_size1(size1);
  request.set_size2(size2);
  v1::AuditProofResponse response;
  grpc::Status status = ctx.stub.AuditConsistency(&rpc, request, &response);
  if (!status.ok()) {
    return Failed<v1::AuditProofResponse>(
        run.FailRpc("fetching the consistency proof from size " + Num(size1) +
                        " to " + Num(size2),
                    status, ctx.settings));
  }
  return Got(std::move(response));
}

std::vector<Bytes> ProofOf(const v1::AuditProofResponse& r) {
  return std::vector<Bytes>(r.proof().begin(), r.proof().end());
}

// "XX" from "cbx/XX/audit" in the checkpoint note `note`, or "".
std::string MemberOfCheckpoint(std::string_view note) {
  auto parsed = note::ParseNote(note);
  if (!parsed.ok()) return "";
  auto cp = note::ParseCheckpoint(parsed->text);
  if (!cp.ok()) return "";
  const std::string& o = cp->origin;
  // "cbx/XX/audit", or "cbx/XX/audit/<n>" for a later generation.
  if (o.size() >= 12 && o.rfind("cbx/", 0) == 0 &&
      GenerationOfOrigin(o.substr(4, 2), o) > 0) {
    return o.substr(4, 2);
  }
  return "";
}

Fetched<VerifiedExport> LoadExport(Run& run, const AuditOptions& options,
                                   const std::string& path) {
  auto text = ReadWholeFile(path, kMaxExportFileBytes);
  if (!text.ok()) return Failed<VerifiedExport>(run.FailStatus(text.status()));
  auto parsed = ParseExport(*text);
  if (!parsed.ok()) {
    return Failed<VerifiedExport>(
        run.FailStatus(parsed.status(), path + ": not an audit export: "));
  }
  ExportCheckOptions check;
  check.now_ms = options.now_ms;
  check.require_witnessed = !options.allow_unwitnessed;
  auto verified = VerifyExport(options.genesis, *std::move(parsed), check);
  if (!verified.ok()) {
    std::string hint;
    if (Str(verified.status().message()).find("is not witnessed") !=
        std::string::npos) {
      hint =
          "pass --allow-unwitnessed to accept a checkpoint signed by the "
          "node alone";
    }
    return Failed<VerifiedExport>(
        run.FailStatus(verified.status(), path + ": does not verify: ", hint));
  }
  return Got(*std::move(verified));
}

}  // namespace

int CheckpointCommand(CommandContext& ctx, const AuditOptions& options) {
  Run run("checkpoint", ctx.json, ctx.out, ctx.err);
  auto dir = FetchDirectory(ctx, run, options);
  if (!dir.ok()) return dir.code;
  auto report = FetchCheckpoint(ctx, run, *dir.value, options);
  if (!report.ok()) return report.code;
  absl::Status witnessed = RequireWitnessed(*report.value);
  const bool ok = witnessed.ok() || options.allow_unwitnessed;
  Json j = CheckpointJson(*report.value);
  j["verified"] = ok;
  if (!ok) j["error"] = Str(witnessed.message());
  if (ctx.json) {
    ctx.out << JsonLine(j) << std::flush;
  } else {
    ctx.out << CheckpointText(*report.value) << std::flush;
  }
  if (!ok) {
    ctx.err << "cbx: audit checkpoint: "
            << SanitizeForTerminal(Str(witnessed.message())) << "\n"
            << "hint: " << kUnwitnessedHint << "\n"
            << std::flush;
    return kExitFailed;
  }
  return kExitOk;
}

namespace {

// For the first checkpoint of a new generation of `r`'s log
// (spec/audit-log.md §12): the line saying how the checkpoint the auditor
// trusted of the old log relates to the predecessor `dir` names. DATA_LOSS
// if it lies beyond it (the recovery dropped entries this auditor trusted)
// or has another root at its size.
absl::StatusOr<std::string> CheckTrustedPredecessor(
    TrustedStore& store, const directory::Directory& dir,
    const CheckpointReport& r) {
  const v1::Member* m = dir.FindMember(r.member);
  if (m == nullptr) return std::string();
  auto p = logcheck::PredecessorOf(*m);
  if (!p.ok()) return std::string();
  auto old = store.Load(p->origin);
  if (!old.ok()) return old.status();
  if (!old->has_value()) {
    return "you trusted no checkpoint of " + p->origin;
  }
  const note::Checkpoint& t = (*old)->checkpoint;
  if (t.size > p->size || (t.size == p->size && t.root_hash != p->root_hash)) {
    return absl::DataLossError(
        "the directory's new log for " + r.member + " starts after " +
        p->origin + " checkpoint " + Num(p->size) +
        ", but you trusted its checkpoint " + Num(t.size) + " (" +
        (*old)->path + "): the recovery drops entries you verified");
  }
  return "your trusted checkpoint " + Num(t.size) + " of " + p->origin +
         " is at or before its predecessor checkpoint " + Num(p->size) +
         "; entries " + Num(p->size) + " and after of that log are lost";
}

// Checks the node's checkpoint `r` against the trusted one `t` (a
// consistency proof fetched when needed) and records in `update` how it
// extends it. Returns the exit code if it does not: the trusted checkpoint
// is kept, with evidence saved for an inconsistent one.
std::optional<int> CheckAgainstTrusted(CommandContext& ctx, Run& run,
                                       const AuditOptions& options,
                                       TrustedStore& store,
                                       const TrustedCheckpoint& t,
                                       const CheckpointReport& r,
                                       TrustUpdate& update) {
  update.trusted_size = t.checkpoint.size;
  std::vector<Bytes> proof;
  if (NeedsConsistencyProof(t.checkpoint, r.checkpoint)) {
    auto fetched =
        FetchConsistency(ctx, run, t.checkpoint.size, r.checkpoint.size);
    if (!fetched.ok()) return fetched.code;
    proof = ProofOf(*fetched.value);
  }
  update.proof_hashes = proof.size();
  auto consistent = CheckConsistency(t.checkpoint, r.checkpoint, proof);
  if (!consistent.ok()) {
    const std::string reason = Str(consistent.status().message());
    if (consistent.status().code() != absl::StatusCode::kDataLoss) {
      return run.Fail("the node's " + reason + "; the trusted checkpoint " +
                      Num(t.checkpoint.size) + " is kept");
    }
    auto evidence = store.SaveEvidence(r.origin, reason, t.note, r.note,
                                       proof, options.now_ms);
    std::string kept = "the trusted checkpoint " + Num(t.checkpoint.size) +
                       " is kept in " + t.path;
    if (evidence.ok()) {
      kept +=
          "; evidence (both checkpoints and the proof) is in " + *evidence;
    } else {
      kept += "; the evidence could not be saved: " +
              Str(evidence.status().message());
    }
    return run.Fail(reason + "\n" + kept,
                    "keep the evidence; report it to the federation's "
                    "governance members");
  }
  switch (*consistent) {
    case Consistency::kFromEmpty:
      update.kind = TrustUpdate::Kind::kFromEmpty;
      break;
    case Consistency::kSame:
      update.kind = TrustUpdate::Kind::kSame;
      break;
    case Consistency::kExtended:
      update.kind = TrustUpdate::Kind::kExtended;
      break;
  }
  return std::nullopt;
}

}  // namespace

int VerifyCommand(CommandContext& ctx, const AuditOptions& options,
                  const std::string& state_dir) {
  Run run("verify", ctx.json, ctx.out, ctx.err);
  std::shared_ptr<const directory::Directory> latest;
  auto report = FetchTrustworthyCheckpoint(ctx, run, options, &latest);
  if (!report.ok()) return report.code;
  const CheckpointReport& r = *report.value;
  TrustedStore store(state_dir);
  auto trusted = store.Load(r.origin);
  if (!trusted.ok()) {
    return run.FailStatus(trusted.status(), "",
                          "it holds the last checkpoint you trusted; restore "
                          "it from a backup, or remove it to trust the node "
                          "anew");
  }
  TrustUpdate update;
  update.state_file = store.PathFor(r.origin);
  if (!trusted->has_value() && !r.log_chain.empty()) {
    // A new generation of the log: what was trusted of the old one must be
    // at or before the predecessor the directory names.
    auto chained = CheckTrustedPredecessor(store, *latest, r);
    if (!chained.ok()) {
      return run.Fail(Str(chained.status().message()),
                      "keep the trusted checkpoint; report it to the "
                      "federation's governance members");
    }
    update.predecessor = *chained;
  }
  if (!trusted->has_value()) {
    update.kind = TrustUpdate::Kind::kFirstUse;
  } else if (std::optional<int> failed = CheckAgainstTrusted(
                 ctx, run, options, store, **trusted, r, update);
             failed.has_value()) {
    return *failed;
  }
  if (absl::Status s = store.Save(r.origin, r.note); !s.ok()) {
    return run.FailStatus(s,
                          "the checkpoint verified but cannot be stored as "
                          "trusted: ");
  }
  run.Print(VerifyText(r, update), VerifyJson(r, update));
  return kExitOk;
}

int ProveCommand(CommandContext& ctx, const AuditOptions& options,
                 uint64_t index, std::optional<uint64_t> size) {
  Run run("prove", ctx.json, ctx.out, ctx.err);
  auto report = FetchTrustworthyCheckpoint(ctx, run, options);
  if (!report.ok()) return report.code;
  const CheckpointReport& r = *report.value;
  const uint64_t n = r.checkpoint.size;
  const uint64_t tree = size.value_or(n);
  if (tree > n) {
    return run.Fail("--size " + Num(tree) +
                    " is beyond the latest checkpoint's size " + Num(n));
  }
  if (index >= tree) {
    return run.Fail(
        "entry " + Num(index) + " is not in the tree of size " + Num(tree) +
        (tree == 0 ? " (the log is empty)"
                   : " (its entries are 0.." + Num(tree - 1) + ")"));
  }
  grpc::ClientContext rpc;
  rpc.set_deadline(Deadline(ctx.settings));
  v1::AuditInclusionRequest request;
  request.set_index(index);
  request.set_size(tree);
  v1::AuditProofResponse inclusion;
  grpc::Status status = ctx.stub.AuditInclusion(&rpc, request, &inclusion);
  if (!status.ok()) {
    return run.FailRpc("fetching the inclusion proof of entry " + Num(index),
                       status, ctx.settings);
  }
  std::vector<Bytes> consistency;
  if (tree < n) {
    auto fetched = FetchConsistency(ctx, run, tree, n);
    if (!fetched.ok()) return fetched.code;
    consistency = ProofOf(*fetched.value);
  }
  auto entry = VerifyEntryAtSize(index, inclusion.leaf(), ProofOf(inclusion),
                                 tree, consistency, r.checkpoint);
  if (!entry.ok()) {
    return run.FailStatus(entry.status(), "the node's proof: ");
  }
  run.Print(ProofText(index, *entry, tree, r),
            ProofJson(index, *entry, inclusion.leaf(), tree, r));
  return kExitOk;
}

namespace {

// The end of an export's range (exclusive) and the checkpoint size its
// proofs are against (0: the latest).
struct ExportBounds {
  uint64_t to = 0;
  uint64_t size = 0;
};

// The bounds of `range`; without --to or --size, the latest checkpoint's
// size (fetched and verified against `versions`).
Fetched<ExportBounds> ResolveExportBounds(
    CommandContext& ctx, Run& run, const AuditOptions& options,
    const ExportRange& range,
    const std::vector<v1::SignedDirectory>& versions) {
  ExportBounds b;
  b.size = range.size.value_or(0);
  if (range.to.has_value()) {
    b.to = *range.to;
  } else if (range.size.has_value()) {
    b.to = *range.size;
  } else {
    // The whole log up to the latest checkpoint: learn its size first.
    auto dir = VerifyDirectoryChain(options.genesis, versions);
    if (!dir.ok()) {
      return Failed<ExportBounds>(
          run.FailStatus(dir.status(), "the node's directory: "));
    }
    auto report = FetchCheckpoint(ctx, run, *dir, options);
    if (!report.ok()) return Failed<ExportBounds>(report.code);
    b.to = b.size = report.value->checkpoint.size;
  }
  return Got(b);
}

// Reads the AuditExport stream into `file` (checkpoint and entries).
grpc::Status ReadExportStream(CommandContext& ctx,
                              const v1::AuditExportRequest& request,
                              AuditExport& file) {
  grpc::ClientContext rpc;
  rpc.set_deadline(Deadline(ctx.settings));
  std::unique_ptr<grpc::ClientReaderInterface<v1::AuditExportChunk>> reader =
      ctx.stub.AuditExport(&rpc, request);
  v1::AuditExportChunk chunk;
  bool first = true;
  while (reader->Read(&chunk)) {
    if (first) file.checkpoint = chunk.checkpoint();
    first = false;
    for (v1::AuditExportedEntry& e : *chunk.mutable_entries()) {
      ExportedEntry x;
      x.index = e.index();
      x.leaf = std::move(*e.mutable_leaf());
      x.inclusion_proof.assign(e.inclusion_proof().begin(),
                               e.inclusion_proof().end());
      file.entries.push_back(std::move(x));
    }
  }
  return reader->Finish();
}

// Entries [from, b.to) against checkpoint b.size from the node, with
// `versions`, checked to be what was asked for (not yet verified).
Fetched<AuditExport> FetchExport(CommandContext& ctx, Run& run, uint64_t from,
                                 const ExportBounds& b,
                                 std::vector<v1::SignedDirectory> versions) {
  v1::AuditExportRequest request;
  request.set_begin(from);
  request.set_end(b.to);
  request.set_size(b.size);
  AuditExport file;
  file.directory_versions = std::move(versions);
  grpc::Status status = ReadExportStream(ctx, request, file);
  const std::string what = "exporting entries " + Num(from) + ".." +
                           (b.to > 0 ? Num(b.to - 1) : std::string("-1"));
  if (!status.ok()) {
    return Failed<AuditExport>(
        run.FailRpc(what + " (after " + Num(file.entries.size()) + " entries)",
                    status, ctx.settings));
  }
  if (file.checkpoint.empty()) {
    return Failed<AuditExport>(
        run.Fail("the node's export carries no checkpoint; nothing was "
                 "written"));
  }
  file.member = MemberOfCheckpoint(file.checkpoint);
  if (file.member.empty()) {
    return Failed<AuditExport>(
        run.Fail("the node's export checkpoint names no cbx log "
                 "(origin cbx/<CC>/audit); nothing was written"));
  }
  const uint64_t count = b.to - from;
  if (file.entries.size() != count ||
      (count > 0 && file.entries.front().index != from)) {
    std::string got = file.entries.empty()
                          ? std::string("no entries")
                          : "entries " + Num(file.entries.front().index) +
                                ".." + Num(file.entries.back().index) + " (" +
                                Num(file.entries.size()) + ")";
    return Failed<AuditExport>(
        run.Fail("the node sent " + got + " for the range " + Num(from) + ".." +
                 (count > 0 ? Num(b.to - 1) : std::string("(empty)")) +
                 "; nothing was written"));
  }
  return Got(std::move(file));
}

}  // namespace

int ExportCommand(CommandContext& ctx, const AuditOptions& options,
                  const ExportRange& range) {
  Run run("export", ctx.json, ctx.out, ctx.err);
  auto versions = FetchDirectoryVersions(ctx, run);
  if (!versions.ok()) return versions.code;
  auto bounds = ResolveExportBounds(ctx, run, options, range, *versions.value);
  if (!bounds.ok()) return bounds.code;
  const uint64_t to = bounds.value->to;
  const uint64_t size = bounds.value->size;
  if (range.from >= to) {
    return run.Fail("nothing to export: --from " + Num(range.from) +
                    " is not before the end of the range, " + Num(to) +
                    " (the checkpoint's size)");
  }
  auto fetched = FetchExport(ctx, run, range.from, *bounds.value,
                             *std::move(versions.value));
  if (!fetched.ok()) return fetched.code;
  const AuditExport& file = *fetched.value;

  ExportCheckOptions check;
  check.now_ms = options.now_ms;
  check.require_witnessed = !options.allow_unwitnessed;
  auto verified = VerifyExport(options.genesis, file, check);
  if (!verified.ok()) {
    const bool unwitnessed =
        Str(verified.status().message()).find("is not witnessed") !=
        std::string::npos;
    return run.FailStatus(verified.status(),
                          "the export does not verify, nothing was written: ",
                          unwitnessed ? kUnwitnessedHint : "");
  }
  if (size != 0 && verified->checkpoint.checkpoint.size != size) {
    return run.Fail("the node's export is against checkpoint " +
                    Num(verified->checkpoint.checkpoint.size) + ", not " +
                    Num(size) + "; nothing was written");
  }
  if (absl::Status s =
          WriteFileAtomically(range.out_path, FormatExport(file), 0644);
      !s.ok()) {
    return run.FailStatus(s);
  }
  run.Print("wrote " + SanitizeForTerminal(range.out_path) + "\n" +
                ExportText(range.out_path, *verified),
            ExportJson(range.out_path, *verified));
  return kExitOk;
}

int VerifyExportCommand(OfflineContext& ctx, const AuditOptions& options,
                        const std::string& path) {
  Run run("verify-export", ctx.json, ctx.out, ctx.err);
  auto verified = LoadExport(run, options, path);
  if (!verified.ok()) return verified.code;
  run.Print(ExportText(path, *verified.value),
            ExportJson(path, *verified.value));
  return kExitOk;
}

int ReconcileCommand(OfflineContext& ctx, const AuditOptions& options,
                     const std::string& path_a, const std::string& path_b,
                     std::optional<int64_t> margin_s) {
  Run run("reconcile", ctx.json, ctx.out, ctx.err);
  auto a = LoadExport(run, options, path_a);
  if (!a.ok()) return a.code;
  auto b = LoadExport(run, options, path_b);
  if (!b.ok()) return b.code;
  ReconcileOptions reconcile;
  if (margin_s.has_value()) reconcile.margin_ms = *margin_s * 1000;
  auto report = Reconcile(*a.value, *b.value, reconcile);
  if (!report.ok()) return run.FailStatus(report.status());
  run.Print(ReconcileText(*report), ReconcileJson(*report));
  if (!report->orphans.empty()) {
    ctx.err << "cbx: audit reconcile: " << report->orphans.size()
            << (report->orphans.size() == 1 ? " orphan" : " orphans")
            << ": envelopes one member logged and the other did not\n"
            << std::flush;
    return kExitFailed;
  }
  return kExitOk;
}

int ReportCommand(OfflineContext& ctx, const AuditOptions& options,
                  const std::string& export_path, const std::string& month,
                  const std::string& signed_path) {
  Run run("report", ctx.json, ctx.out, ctx.err);
  auto exported = LoadExport(run, options, export_path);
  if (!exported.ok()) return exported.code;
  std::optional<v1::SignedReport> signed_;
  if (!signed_path.empty()) {
    auto text = ReadWholeFile(signed_path, size_t{64} << 20);
    if (!text.ok()) return run.FailStatus(text.status());
    auto parsed = ParseSignedReportJson(*text);
    if (!parsed.ok()) {
      return run.FailStatus(parsed.status(), signed_path + ": ");
    }
    signed_ = *std::move(parsed);
  }
  auto check = CheckReport(*exported.value, month,
                           signed_.has_value() ? &*signed_ : nullptr);
  if (!check.ok()) return run.FailStatus(check.status());
  const bool compared = check->node.has_value();
  run.Print(ReportText(check->recomputed) +
                (compared && check->differences.empty()
                     ? "the node's signed report verifies and every figure "
                       "equals the recomputation\n"
                     : ""),
            ReportJsonValue(check->recomputed, nullptr));
  if (!check->differences.empty()) {
    ctx.err << "cbx: audit report: the node's signed report differs from "
               "the recomputation from its export:\n";
    for (const std::string& line : DifferenceLines(check->differences)) {
      ctx.err << "  " << SanitizeForTerminal(line) << "\n";
    }
    ctx.err << std::flush;
    return kExitFailed;
  }
  return kExitOk;
}

}  // namespace cbx::client::audit
