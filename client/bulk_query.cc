#include "client/bulk_query.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <utility>

#include "client/identifier_arg.h"
#include "client/json_output.h"
#include "client/strings.h"
#include "client/text_output.h"
#include "core/identifiers/identifiers.h"
#include "core/util/status_macros.h"

namespace cbx::client {
namespace {

// Bad lines named one by one before "and N more".
constexpr size_t kBadLinesShown = 10;

// An identifier's identity in a file: its type and normal form.
using IdentifierKey = std::pair<int, std::string>;

// The normal form of a value ParseIdentifierArg accepted (so it has one).
std::string NormalOf(const v1::Identifier& id) {
  absl::StatusOr<std::string> n = identifiers::Normalize(id.type(), id.value());
  return n.ok() ? *n : id.value();
}

std::string_view Trimmed(std::string_view line) {
  const size_t first = line.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  const size_t last = line.find_last_not_of(" \t");
  return line.substr(first, last - first + 1);
}

absl::Status FileError(std::string_view name, std::string_view why) {
  return absl::InvalidArgumentError("--ids-file " + Quoted(name) + ": " +
                                    std::string(why));
}

// "2051-3080": the file lines a query's identifiers came from ("7" for one).
std::string LineRange(const BulkBatch& batch) {
  const int first = batch.lines.front();
  const int last = batch.lines.back();
  return first == last ? std::to_string(first)
                       : std::to_string(first) + "-" + std::to_string(last);
}

// "lines 2051-3080 of contacts.txt" (or "line 7 of ...").
std::string LinesOf(const BulkBatch& batch, std::string_view file) {
  return (batch.lines.front() == batch.lines.back() ? "line " : "lines ") +
         LineRange(batch) + " of " + SanitizeForTerminal(file);
}

BulkBatchResult RunOne(v1::Office::StubInterface& stub,
                       const v1::QueryRequest& request,
                       std::chrono::system_clock::time_point deadline) {
  BulkBatchResult result;
  result.sent = true;
  const auto start = std::chrono::steady_clock::now();
  grpc::ClientContext rpc;
  rpc.set_deadline(deadline);
  std::unique_ptr<grpc::ClientReaderInterface<v1::QueryEvent>> reader =
      stub.Query(&rpc, request);
  v1::QueryEvent event;
  while (reader->Read(&event)) {
    if (event.has_answer()) {
      result.answers.push_back(event.answer());
    } else if (event.has_summary()) {
      result.has_summary = true;
      result.summary = event.summary();
    }
  }
  result.status = reader->Finish();
  result.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  return result;
}

bool Completed(const BulkBatchResult& r) {
  return r.sent && r.status.ok() && r.has_summary;
}

// What the closing block says, gathered as the queries end.
struct BulkTally {
  size_t completed = 0;
  // Per member, the 0-based queries in which it hit, gave a phantom, or
  // gave no verified answer.
  std::map<std::string, std::vector<size_t>> hits, phantoms, errors;
  std::vector<size_t> failed, not_sent;

  void Add(size_t batch, const BulkBatchResult& r) {
    if (!r.sent) {
      not_sent.push_back(batch);
      return;
    }
    if (Completed(r)) {
      ++completed;
    } else {
      failed.push_back(batch);
    }
    for (const v1::PeerAnswer& a : r.answers) {
      switch (a.outcome()) {
        case v1::PEER_OUTCOME_HIT:
          hits[a.member()].push_back(batch);
          break;
        case v1::PEER_OUTCOME_PHANTOM:
          phantoms[a.member()].push_back(batch);
          break;
        case v1::PEER_OUTCOME_ERROR:
          errors[a.member()].push_back(batch);
          break;
        default:
          break;
      }
    }
  }
};

// "query 3" or "queries 3, 7" (1-based, in order), and with `plan` their
// file lines: "queries 3, 7 (lines 2051-3080, 6121-7150)".
std::string Queries(std::vector<size_t> batches,
                    const BulkQueryPlan* plan = nullptr) {
  std::sort(batches.begin(), batches.end());
  std::vector<std::string> numbers, ranges;
  for (size_t b : batches) {
    numbers.push_back(std::to_string(b + 1));
    if (plan != nullptr) ranges.push_back(LineRange(plan->batches[b]));
  }
  std::string out =
      (batches.size() == 1 ? "query " : "queries ") + Join(numbers, ", ");
  if (plan != nullptr) out += " (lines " + Join(ranges, ", ") + ")";
  return out;
}

std::string BulkSummaryText(const BulkQueryPlan& plan, const BulkTally& t,
                            double seconds) {
  char elapsed[32];
  std::snprintf(elapsed, sizeof elapsed, "%.1f s", seconds);
  std::string out = "bulk check of " + SanitizeForTerminal(plan.file) + ": " +
                    Plural(plan.identifiers, "identifier", "identifiers") +
                    " in " + Plural(plan.batches.size(), "query", "queries") +
                    ", " + elapsed;
  if (plan.duplicates > 0) {
    out += " (" +
           Plural(static_cast<size_t>(plan.duplicates), "repeated line",
                  "repeated lines") +
           " skipped)";
  }
  out += "\n";
  auto by_member = [&](const std::map<std::string, std::vector<size_t>>& m,
                       bool with_lines) {
    std::vector<std::string> parts;
    for (const auto& [member, batches] : m) {
      parts.push_back(SanitizeForTerminal(member) + " in " +
                      Queries(batches, with_lines ? &plan : nullptr));
    }
    return Join(parts, "; ");
  };
  out += "  hits: " + (t.hits.empty() ? "none" : by_member(t.hits, false));
  if (!t.hits.empty() && !plan.batches.empty()) {
    out +=
        " ('cbx hits --case " +
        SanitizeForTerminal(plan.batches[0].request.purpose().case_number()) +
        "' lists them)";
  }
  out += "\n";
  if (!t.phantoms.empty()) {
    out +=
        "  phantom hits (not misses: the peer's index held an identifier "
        "its answer named no case for): " +
        by_member(t.phantoms, false) + "\n";
  }
  if (!t.errors.empty()) {
    out += "  not checked by: " + by_member(t.errors, true) +
           "; ask again for those lines\n";
  }
  if (!t.failed.empty()) {
    out += "  failed: " + Queries(t.failed, &plan) + "\n";
  }
  if (!t.not_sent.empty()) {
    out += "  not sent after the failure: " + Queries(t.not_sent, &plan) +
           "; nothing was asked for them\n";
  }
  return out;
}

Json BulkSummaryJson(const BulkQueryPlan& plan, const BulkTally& t,
                     double seconds) {
  auto numbers = [](std::vector<size_t> batches) {
    std::sort(batches.begin(), batches.end());
    Json a = Json::array();
    for (size_t b : batches) a.push_back(b + 1);
    return a;
  };
  auto by_member = [&](const std::map<std::string, std::vector<size_t>>& m) {
    Json o = Json::object();
    for (const auto& [member, batches] : m) o[member] = numbers(batches);
    return o;
  };
  Json j;
  j["event"] = "bulk_summary";
  j["file"] = plan.file;
  j["identifiers"] = plan.identifiers;
  j["duplicates"] = plan.duplicates;
  j["queries"] = plan.batches.size();
  j["completed"] = t.completed;
  j["hits"] = by_member(t.hits);
  j["phantoms"] = by_member(t.phantoms);
  j["errors"] = by_member(t.errors);
  j["failed"] = numbers(t.failed);
  j["not_sent"] = numbers(t.not_sent);
  j["elapsed_ms"] = static_cast<int64_t>(seconds * 1000);
  return j;
}

// One answer as JSON, each matched identifier with its file line.
Json AnswerJson(const v1::PeerAnswer& answer, const BulkBatch& batch,
                size_t index, Lang lang) {
  Json j = PeerAnswerJson(answer, lang);
  j["query"] = index + 1;
  for (Json& ref : j["references"]) {
    for (Json& m : ref["matched"]) {
      const int64_t at = m["input_index"].get<int64_t>();
      if (at >= 0 && static_cast<size_t>(at) < batch.lines.size()) {
        m["line"] = batch.lines[at];
      }
    }
  }
  return j;
}

void PrintBatch(CommandContext& ctx, const BulkQueryPlan& plan, size_t index,
                const BulkBatchResult& r) {
  const BulkBatch& batch = plan.batches[index];
  const std::string which = "query " + std::to_string(index + 1) + " of " +
                            std::to_string(plan.batches.size()) + " (" +
                            LinesOf(batch, plan.file) + ")";
  if (ctx.json) {
    for (const v1::PeerAnswer& a : r.answers) {
      ctx.out << JsonLine(AnswerJson(a, batch, index, ctx.lang));
    }
    if (r.has_summary) {
      Json s = QuerySummaryJson(r.summary);
      s["query"] = index + 1;
      s["identifiers"] = batch.lines.size();
      s["first_line"] = batch.lines.front();
      s["last_line"] = batch.lines.back();
      ctx.out << JsonLine(s);
    }
  } else {
    ctx.out << which << ", "
            << Plural(batch.lines.size(), "identifier", "identifiers") << "\n";
    const InputName line_of = [&](int at) {
      const int line = at >= 0 && static_cast<size_t>(at) < batch.lines.size()
                           ? batch.lines[at]
                           : 0;
      return "line " + std::to_string(line) + " of " +
             SanitizeForTerminal(plan.file);
    };
    // Misses only in the closing line: a bulk check is mostly misses.
    for (const v1::PeerAnswer& a : r.answers) {
      if (a.outcome() == v1::PEER_OUTCOME_MISS) continue;
      ctx.out << PeerAnswerText(a, ctx.lang, &line_of);
    }
    if (r.has_summary) {
      ctx.out << QuerySummaryText(r.summary)
              << StaleIndexText(r.summary, ctx.lang);
    }
  }
  ctx.out << std::flush;
  if (!r.status.ok()) {
    ctx.err << DescribeRpcError(which, r.status, ctx.settings, ctx.technical(),
                                ctx.lang)
            << std::flush;
  } else if (!r.has_summary) {
    ctx.err << "cbx: " << which
            << ": the node ended the answer without a summary\n"
            << std::flush;
  }
}

}  // namespace

absl::StatusOr<IdentifierFile> ParseIdentifierFile(
    std::string_view text, std::string_view name,
    std::string_view home_member) {
  IdentifierFile file;
  file.name = std::string(name);
  std::set<IdentifierKey> seen;
  std::vector<std::string> bad;
  size_t bad_count = 0;
  int line_number = 0;
  for (size_t at = 0; at < text.size();) {
    size_t end = text.find('\n', at);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(at, end - at);
    at = end + 1;
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    line = Trimmed(line);
    if (line.empty() || line.front() == '#') continue;
    absl::StatusOr<v1::Identifier> id =
        ParseIdentifierArg(line, WindowPolicy::kAllowed, home_member);
    if (!id.ok()) {
      if (++bad_count <= kBadLinesShown) {
        bad.push_back("  " + SanitizeForTerminal(name) + ":" +
                      std::to_string(line_number) + ": " +
                      SanitizeForTerminal(std::string(id.status().message())));
      }
      continue;
    }
    std::string normalized = NormalOf(*id);
    if (!seen.insert({id->type(), normalized}).second) {
      ++file.duplicates;
      continue;
    }
    if (file.identifiers.size() == kMaxBulkIdentifiers) {
      return FileError(
          name, "more than " + std::to_string(kMaxBulkIdentifiers) +
                    " identifiers (at line " + std::to_string(line_number) +
                    "); split the file");
    }
    file.identifiers.push_back(
        {*std::move(id), line_number, std::move(normalized)});
  }
  if (bad_count > 0) {
    std::string why = std::to_string(bad_count) + " line" +
                      (bad_count == 1 ? " does" : "s do") +
                      " not hold an identifier in the --id form "
                      "(TYPE:VALUE or TYPE@WINDOW:VALUE):\n" +
                      Join(bad, "\n");
    if (bad_count > bad.size()) {
      why += "\n  and " + std::to_string(bad_count - bad.size()) + " more";
    }
    return FileError(name, why);
  }
  if (file.identifiers.empty()) {
    return FileError(name,
                     "holds no identifier (one a line, TYPE:VALUE as for "
                     "--id; blank lines and lines starting with '#' are "
                     "skipped)");
  }
  return file;
}

absl::StatusOr<IdentifierFile> ReadIdentifierFile(
    const std::string& path, std::string_view home_member) {
  std::ifstream file;
  std::istream* in = &std::cin;
  if (path != "-") {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
      return FileError(path, "is a directory, not a file of identifiers");
    }
    file.open(path, std::ios::binary);
    if (!file) {
      return FileError(path,
                       std::string("cannot read: ") + std::strerror(errno));
    }
    in = &file;
  }
  // Read in pieces up to the bound: a pipe or a FIFO has no size to ask.
  std::string text;
  char buffer[1 << 16];
  while (in->read(buffer, sizeof buffer) || in->gcount() > 0) {
    text.append(buffer, static_cast<size_t>(in->gcount()));
    if (text.size() > kMaxIdentifierFileBytes) {
      return FileError(path, "holds more than " +
                                 std::to_string(kMaxIdentifierFileBytes) +
                                 " bytes; split the file");
    }
  }
  if (in->bad()) return FileError(path, "cannot read");
  return ParseIdentifierFile(text, path == "-" ? "standard input" : path,
                             home_member);
}

BulkQueryPlan PlanBulkQuery(const IdentifierFile& file,
                            const v1::QueryRequest& base, bool both_types) {
  BulkQueryPlan plan;
  plan.file = file.name;
  plan.identifiers = file.identifiers.size();
  plan.duplicates = file.duplicates;
  std::set<IdentifierKey> asked;
  for (const FileIdentifier& f : file.identifiers) {
    asked.insert({f.identifier.type(), f.normalized});
  }
  v1::QueryRequest empty = base;
  empty.clear_identifiers();
  BulkBatch batch;
  batch.request = empty;
  for (const FileIdentifier& f : file.identifiers) {
    std::vector<v1::Identifier> group = {f.identifier};
    const v1::IdentifierType twin = TwinType(f.identifier.type());
    absl::StatusOr<std::string> as_twin =
        both_types && twin != v1::IDENTIFIER_TYPE_UNSPECIFIED
            ? identifiers::Normalize(twin, f.identifier.value())
            : absl::StatusOr<std::string>(absl::NotFoundError("no twin"));
    if (as_twin.ok() && asked.insert({twin, *as_twin}).second) {
      group.push_back(f.identifier);
      group.back().set_type(twin);
    }
    if (batch.lines.size() + group.size() > kMaxIdentifiersPerQuery) {
      plan.batches.push_back(std::move(batch));
      batch = BulkBatch();
      batch.request = empty;
    }
    for (v1::Identifier& id : group) {
      *batch.request.add_identifiers() = std::move(id);
      batch.lines.push_back(f.line);
    }
  }
  if (!batch.lines.empty()) plan.batches.push_back(std::move(batch));
  return plan;
}

absl::StatusOr<BulkQueryPlan> BuildBulkQuery(const QueryArgs& a,
                                             std::string_view home_member) {
  if (!a.ids.empty()) {
    return absl::InvalidArgumentError(
        "--ids-file: give the identifiers either with --id or in the file, "
        "not both");
  }
  ASSIGN_OR_RETURN(v1::QueryRequest base, BuildQueryPurpose(a));
  ASSIGN_OR_RETURN(IdentifierFile file,
                   ReadIdentifierFile(a.ids_file, home_member));
  return PlanBulkQuery(file, base, a.both_types);
}

void RunQueries(
    v1::Office::StubInterface& stub, const std::vector<BulkBatch>& batches,
    int streams,
    const std::function<std::chrono::system_clock::time_point()>& deadline,
    const std::function<void(size_t batch, const BulkBatchResult&)>& done) {
  std::mutex mu;
  size_t next = 0;
  bool stopped = false;
  auto work = [&] {
    for (;;) {
      size_t index;
      {
        std::lock_guard<std::mutex> lock(mu);
        if (stopped || next >= batches.size()) return;
        index = next++;
      }
      BulkBatchResult result = RunOne(stub, batches[index].request, deadline());
      std::lock_guard<std::mutex> lock(mu);
      if (!Completed(result)) stopped = true;
      done(index, result);
    }
  };
  const size_t threads =
      std::min(batches.size(), static_cast<size_t>(std::max(1, streams)));
  std::vector<std::thread> workers;
  for (size_t i = 1; i < threads; ++i) workers.emplace_back(work);
  work();
  for (std::thread& t : workers) t.join();
  for (size_t index = next; index < batches.size(); ++index) {
    done(index, BulkBatchResult());
  }
}

int BulkQuery(CommandContext& ctx, const BulkQueryPlan& plan) {
  BulkTally tally;
  // Queries end out of order (two run at once); each is printed once every
  // query before it has been, so the output reads in file order.
  std::map<size_t, BulkBatchResult> waiting;
  size_t next_to_print = 0;
  const auto start = std::chrono::steady_clock::now();
  RunQueries(
      ctx.stub, plan.batches, kBulkStreams,
      [&] { return Deadline(ctx.settings); },
      [&](size_t index, const BulkBatchResult& r) {
        tally.Add(index, r);
        waiting.emplace(index, r);
        for (auto it = waiting.find(next_to_print); it != waiting.end();
             it = waiting.find(++next_to_print)) {
          if (it->second.sent) PrintBatch(ctx, plan, it->first, it->second);
          waiting.erase(it);
        }
      });
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  if (ctx.json) {
    ctx.out << JsonLine(BulkSummaryJson(plan, tally, seconds));
  } else {
    ctx.out << BulkSummaryText(plan, tally, seconds);
  }
  ctx.out << std::flush;
  return tally.failed.empty() && tally.not_sent.empty() ? kExitOk : kExitFailed;
}

}  // namespace cbx::client
