// `cbx query --ids-file FILE`: a bulk check. Thousands of identifiers (a
// seized phone's contacts, a group's member list) are read from a file, one
// per line, checked before anything is sent, and asked of the peers as
// Office queries of at most 1024 identifiers (spec/office-api.md Q2), two
// at a time, all under one purpose. Each query is an ordinary query: its own
// audit entries, quota and hits (`cbx hits --case`).
//
// What the office sees: per query, its hits, phantoms and errors as a query
// shows them (misses only in the query's closing line), each matched
// identifier named by its line in the file; then one closing block: how
// many identifiers, which peers hit, and which peers did not check which
// lines, so the office can ask those again.
//
// Threading: RunQueries runs `streams` threads of its own over one stub
// (gRPC stubs are thread-safe) and calls `done` under its own lock, so
// output written there is never interleaved.
#ifndef CBX_CLIENT_BULK_QUERY_H_
#define CBX_CLIENT_BULK_QUERY_H_

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "cbx/v1/office.grpc.pb.h"
#include "client/arguments.h"
#include "client/commands.h"

namespace cbx::client {

// A query holds at most this many identifiers (spec/office-api.md Q2).
inline constexpr size_t kMaxIdentifiersPerQuery = 1024;
// A file holds at most this many identifiers: 64 queries, each asking every
// peer for 1024 of its daily evaluations.
inline constexpr size_t kMaxBulkIdentifiers = 65536;
// Queries in flight at once: while the node finishes one query's answers
// (the proofs' check and unblinding) the peers already evaluate the next.
inline constexpr int kBulkStreams = 2;
// A file larger than this is refused before it is read whole.
inline constexpr size_t kMaxIdentifierFileBytes = 64u << 20;

// One identifier of the file, its line (1-based) and its normal form
// (core/identifiers: what tells two lines of one identifier apart).
struct FileIdentifier {
  v1::Identifier identifier;
  int line = 0;
  std::string normalized;
};

struct IdentifierFile {
  // As given; "-" is standard input.
  std::string name;
  // The first occurrence of each identifier, in file order.
  std::vector<FileIdentifier> identifiers;
  // Lines repeating an identifier of an earlier line (same type, same
  // normalized value), skipped.
  int duplicates = 0;
};

// Parses a file's text: one identifier per line in the --id form
// (identifier_arg.h, TYPE[@WINDOW]:VALUE). Blank lines and lines whose
// first non-blank character is '#' are skipped; blanks around a line and a
// '\r' before its '\n' (a file saved on Windows) are dropped. The first
// occurrence of each identifier is kept. INVALID_ARGUMENT when a line does
// not parse (up to 10 named as "<name>:<line>: <why>", then how many more),
// when there is no identifier, or more than kMaxBulkIdentifiers.
absl::StatusOr<IdentifierFile> ParseIdentifierFile(
    std::string_view text, std::string_view name,
    std::string_view home_member = "");

// Reads `path` ("-": standard input) and parses it as above.
// INVALID_ARGUMENT naming the file when it cannot be read or is larger than
// kMaxIdentifierFileBytes.
absl::StatusOr<IdentifierFile> ReadIdentifierFile(
    const std::string& path, std::string_view home_member = "");

// One query of a bulk check, and the file line of each identifier it asks.
struct BulkBatch {
  v1::QueryRequest request;
  std::vector<int> lines;
};

struct BulkQueryPlan {
  std::string file;
  // The file's identifiers (duplicates skipped) and the skipped lines.
  size_t identifiers = 0;
  int duplicates = 0;
  std::vector<BulkBatch> batches;
};

// `base`'s purpose and peers over the file's identifiers in file order,
// kMaxIdentifiersPerQuery a query. With `both_types` a Telegram username or
// chat is followed by its twin (arguments.h TwinType) when the value is
// valid as both and the twin is not in the file; the two stay in one query.
BulkQueryPlan PlanBulkQuery(const IdentifierFile& file,
                            const v1::QueryRequest& base, bool both_types);

// QueryArgs with ids_file set: the file read and the plan made; every
// refusal an argument error (nothing is sent). `--id` with `--ids-file` is
// refused.
absl::StatusOr<BulkQueryPlan> BuildBulkQuery(const QueryArgs& a,
                                             std::string_view home_member = "");

// How one query of a bulk check ended.
struct BulkBatchResult {
  // False when it was never started: an earlier query failed as a whole.
  bool sent = false;
  // The stream's status; OK with a summary when the query completed (peer
  // errors are answers, as in a single query).
  grpc::Status status;
  std::vector<v1::PeerAnswer> answers;
  bool has_summary = false;
  v1::QuerySummary summary;
  double seconds = 0;
};

// Runs each batch as one Office Query, `streams` at a time, starting them
// in order; calls `done` (never two at once) as each ends, then once for
// each batch never started. After a query fails as a whole (its stream not
// OK, or no summary) no further query starts. `deadline` gives each query
// its deadline as it starts.
void RunQueries(
    v1::Office::StubInterface& stub, const std::vector<BulkBatch>& batches,
    int streams,
    const std::function<std::chrono::system_clock::time_point()>& deadline,
    const std::function<void(size_t batch, const BulkBatchResult&)>& done);

// The command: runs the plan (kBulkStreams at a time) and prints each
// query's block in query order (as soon as it and every query before it
// have ended), then the closing block (text), or JSON Lines
// (--json): per query its answers and summary, each with "query" (1-based)
// and every matched identifier's "line", then one "bulk_summary". Exit 0
// when every query completed, 1 when one failed as a whole (the queries not
// sent are named).
int BulkQuery(CommandContext& ctx, const BulkQueryPlan& plan);

}  // namespace cbx::client

#endif  // CBX_CLIENT_BULK_QUERY_H_
