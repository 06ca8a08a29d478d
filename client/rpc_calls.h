// The two shapes of an Office call every command makes: one unary call,
// and a paged listing followed to its last page (spec/office-api.md §3).
// Each call gets the settings' deadline; an error is printed in the
// clerk's words (DescribeRpcError) and gives kExitFailed.
#ifndef CBX_CLIENT_RPC_CALLS_H_
#define CBX_CLIENT_RPC_CALLS_H_

#include <cstdint>
#include <string>

#include "client/commands.h"
#include "client/connection.h"
#include "client/json_output.h"
#include "grpcpp/client_context.h"

namespace cbx::client {

// Makes one unary call with the settings' deadline. On success prints
// `text(response)` or `json(response)` and returns kExitOk; otherwise prints
// the error and returns kExitFailed.
template <typename Request, typename Response, typename Call, typename Text,
          typename ToJson>
int Unary(CommandContext& ctx, const std::string& what, const Request& request,
          Call call, Text text, ToJson to_json) {
  grpc::ClientContext rpc;
  rpc.set_deadline(Deadline(ctx.settings));
  Response response;
  grpc::Status status = call(&rpc, request, &response);
  if (!status.ok()) {
    ctx.err << DescribeRpcError(what, status, ctx.settings, ctx.technical(),
                                ctx.lang)
            << std::flush;
    return kExitFailed;
  }
  if (ctx.json) {
    ctx.out << JsonLine(to_json(response));
  } else {
    ctx.out << text(response);
  }
  ctx.out << std::flush;
  return kExitOk;
}

// Items asked for per page of a listing: the most a node serves.
inline constexpr uint32_t kPageSize = 1000;

// Like Unary, for a paged listing (spec/office-api.md §2.4): follows
// next_page_token page by page, each call with its own deadline, and shows
// every page's items as one listing.
template <typename Request, typename Response, typename Call, typename Text,
          typename ToJson>
int Paged(CommandContext& ctx, const std::string& what, Request request,
          Call call, Text text, ToJson to_json) {
  request.set_page_size(kPageSize);
  Response all;
  for (int pages = 0;; ++pages) {
    grpc::ClientContext rpc;
    rpc.set_deadline(Deadline(ctx.settings));
    Response page;
    grpc::Status status = call(&rpc, request, &page);
    if (!status.ok()) {
      std::string doing = what;
      if (pages > 0) doing += " (page " + std::to_string(pages + 1) + ")";
      ctx.err << DescribeRpcError(doing, status, ctx.settings, ctx.technical(),
                                  ctx.lang)
              << std::flush;
      return kExitFailed;
    }
    const std::string next = page.next_page_token();
    all.MergeFrom(page);  // appends the page's items
    if (next.empty()) break;
    request.set_page_token(next);
  }
  all.clear_next_page_token();
  if (ctx.json) {
    ctx.out << JsonLine(to_json(all));
  } else {
    ctx.out << text(all);
  }
  ctx.out << std::flush;
  return kExitOk;
}

}  // namespace cbx::client

#endif  // CBX_CLIENT_RPC_CALLS_H_
