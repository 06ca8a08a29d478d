#include "client/commands.h"

#include <memory>
#include <string>

#include "client/json_output.h"
#include "client/rpc_calls.h"
#include "client/strings.h"
#include "client/text_output.h"
#include "grpcpp/client_context.h"

namespace cbx::client {
namespace {

std::string CaseLabel(const std::string& number) {
  return "case " + SanitizeForTerminal(number);
}

}  // namespace

int AddCase(CommandContext& ctx, const v1::AddCaseRequest& request) {
  const std::string& number = request.case_().case_number();
  return Unary<v1::AddCaseRequest, v1::Case>(
      ctx, "adding " + CaseLabel(number), request,
      [&](grpc::ClientContext* c, const v1::AddCaseRequest& r, v1::Case* out) {
        return ctx.stub.AddCase(c, r, out);
      },
      [&](const v1::Case& c) {
        return "added " + CaseLabel(c.case_number()) + "\n" +
               CaseText(c, ctx.lang);
      },
      [&](const v1::Case& c) { return CaseJson(c, ctx.lang); });
}

int AmendCase(CommandContext& ctx, const v1::AmendCaseRequest& request) {
  return Unary<v1::AmendCaseRequest, v1::Case>(
      ctx, "amending " + CaseLabel(request.case_number()), request,
      [&](grpc::ClientContext* c, const v1::AmendCaseRequest& r,
          v1::Case* out) { return ctx.stub.AmendCase(c, r, out); },
      [&](const v1::Case& c) {
        return "amended " + CaseLabel(c.case_number()) + "\n" +
               CaseText(c, ctx.lang);
      },
      [&](const v1::Case& c) { return CaseJson(c, ctx.lang); });
}

int CloseCase(CommandContext& ctx, const v1::CloseCaseRequest& request) {
  return Unary<v1::CloseCaseRequest, v1::Case>(
      ctx, "closing " + CaseLabel(request.case_number()), request,
      [&](grpc::ClientContext* c, const v1::CloseCaseRequest& r,
          v1::Case* out) { return ctx.stub.CloseCase(c, r, out); },
      [&](const v1::Case& c) {
        return "closed " + CaseLabel(c.case_number()) + "\n" +
               CaseText(c, ctx.lang);
      },
      [&](const v1::Case& c) { return CaseJson(c, ctx.lang); });
}

int ListCases(CommandContext& ctx, const v1::ListCasesRequest& request) {
  return Paged<v1::ListCasesRequest, v1::ListCasesResponse>(
      ctx, "listing cases", request,
      [&](grpc::ClientContext* c, const v1::ListCasesRequest& r,
          v1::ListCasesResponse* out) { return ctx.stub.ListCases(c, r, out); },
      [&](const v1::ListCasesResponse& r) {
        return CaseListText(r, ctx.lang, ctx.table_width());
      },
      [&](const v1::ListCasesResponse& r) {
        return CaseListJson(r, ctx.lang);
      });
}

int Query(CommandContext& ctx, const v1::QueryRequest& request) {
  std::string what =
      "querying peers for " + CaseLabel(request.purpose().case_number());
  grpc::ClientContext rpc;
  rpc.set_deadline(Deadline(ctx.settings));
  std::unique_ptr<grpc::ClientReaderInterface<v1::QueryEvent>> reader =
      ctx.stub.Query(&rpc, request);
  v1::QueryEvent event;
  int answers = 0;
  bool summary = false;
  while (reader->Read(&event)) {
    if (event.has_answer()) {
      ++answers;
      if (ctx.json) {
        ctx.out << JsonLine(PeerAnswerJson(event.answer(), ctx.lang));
      } else {
        ctx.out << PeerAnswerText(event.answer(), ctx.lang);
      }
    } else if (event.has_summary()) {
      summary = true;
      if (ctx.json) {
        ctx.out << JsonLine(QuerySummaryJson(event.summary()));
      } else {
        ctx.out << QuerySummaryText(event.summary())
                << StaleIndexText(event.summary(), ctx.lang)
                << TypesAskedText(request, event.summary());
      }
    }
    // Each answer is shown the moment it arrives, even through a pipe.
    ctx.out << std::flush;
  }
  grpc::Status status = reader->Finish();
  if (!status.ok()) {
    if (answers > 0) {
      what += " (after " + std::to_string(answers) + " answer" +
              (answers == 1 ? "" : "s") + ")";
    }
    ctx.err << DescribeRpcError(what, status, ctx.settings, ctx.technical(),
                                ctx.lang)
            << std::flush;
    return kExitFailed;
  }
  if (!summary) {
    ctx.err << "cbx: " << what
            << ": the node ended the answer without a summary\n"
            << std::flush;
    return kExitFailed;
  }
  return kExitOk;
}

int ListHits(CommandContext& ctx, const v1::ListHitsRequest& request,
             bool all) {
  return Paged<v1::ListHitsRequest, v1::ListHitsResponse>(
      ctx, "listing hits", request,
      [&](grpc::ClientContext* c, const v1::ListHitsRequest& r,
          v1::ListHitsResponse* out) { return ctx.stub.ListHits(c, r, out); },
      [&](const v1::ListHitsResponse& r) {
        return all ? HitsText(r, ctx.lang, ctx.table_width())
                   : GroupedHitsText(r, ctx.lang, ctx.table_width());
      },
      [&](const v1::ListHitsResponse& r) { return HitsJson(r, ctx.lang); });
}

int ListWithdrawnHits(CommandContext& ctx,
                      const v1::ListHitsRequest& request) {
  auto withdrawn = [](const v1::ListHitsResponse& r) {
    v1::ListHitsResponse out;
    for (const v1::Hit& h : r.hits()) {
      if (h.withdrawn_at_ms() != 0) *out.add_hits() = h;
    }
    return out;
  };
  return Paged<v1::ListHitsRequest, v1::ListHitsResponse>(
      ctx, "listing hits", request,
      [&](grpc::ClientContext* c, const v1::ListHitsRequest& r,
          v1::ListHitsResponse* out) { return ctx.stub.ListHits(c, r, out); },
      [&](const v1::ListHitsResponse& r) {
        return HitsText(withdrawn(r), ctx.lang, ctx.table_width());
      },
      [&](const v1::ListHitsResponse& r) {
        return HitsJson(withdrawn(r), ctx.lang);
      });
}

int ListInbox(CommandContext& ctx, const v1::ListInboxRequest& request) {
  return Paged<v1::ListInboxRequest, v1::ListInboxResponse>(
      ctx, "listing the inbox", request,
      [&](grpc::ClientContext* c, const v1::ListInboxRequest& r,
          v1::ListInboxResponse* out) { return ctx.stub.ListInbox(c, r, out); },
      [&](const v1::ListInboxResponse& r) {
        return InboxText(r, ctx.lang, ctx.table_width());
      },
      [&](const v1::ListInboxResponse& r) { return InboxJson(r, ctx.lang); });
}

int ListPeers(CommandContext& ctx, const v1::ListPeersRequest& request) {
  return Unary<v1::ListPeersRequest, v1::ListPeersResponse>(
      ctx, "listing peers", request,
      [&](grpc::ClientContext* c, const v1::ListPeersRequest& r,
          v1::ListPeersResponse* out) { return ctx.stub.ListPeers(c, r, out); },
      [&](const v1::ListPeersResponse& r) {
        return PeersText(r, ctx.table_width());
      },
      [&](const v1::ListPeersResponse& r) { return PeersJson(r); });
}

}  // namespace cbx::client
