// Reproduces the c-ares leak that sanitizers/lsan.supp suppresses, with no
// cbx code: resolves a name through gRPC's DNS resolver (c-ares), as cbx's
// channels do. Not built by CMake; see lsan.supp for the command.
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <unistd.h>
int main(void) {
  grpc_init();
  grpc_channel_credentials* creds = grpc_insecure_credentials_create();
  grpc_channel* ch = grpc_channel_create("dns:///localhost:1", creds, NULL);
  grpc_channel_check_connectivity_state(ch, 1);
  sleep(2);
  grpc_channel_destroy(ch);
  grpc_channel_credentials_release(creds);
  grpc_shutdown();
  return 0;
}
