// cbx-node: one country's node. Usage: cbx-node --config node.json
#include <iostream>

#include "CLI/CLI.hpp"
#include "node/config.h"
#include "node/node.h"

int main(int argc, char** argv) {
  CLI::App app{"cbx-node: a member's node of the cbx cross-border federation"};
  std::string config_path;
  bool check_only = false;
  app.add_option("-c,--config", config_path, "the node's JSON config file")
      ->required();
  app.add_flag("--check", check_only,
               "load and check the config, keys and directory, then exit");
  CLI11_PARSE(app, argc, argv);

  auto config = cbx::node::LoadConfig(config_path);
  if (!config.ok()) {
    std::cerr << "cbx-node: " << config.status().message() << "\n";
    return 2;
  }
  auto node = cbx::node::Node::Create(*config);
  if (!node.ok()) {
    std::cerr << "cbx-node: " << node.status().message() << "\n";
    return 2;
  }
  if (check_only) {
    std::cout << "cbx-node: config, keys and directory are in order for "
              << config->member << "\n";
    return 0;
  }
  if (absl::Status s = (*node)->Start(); !s.ok()) {
    std::cerr << "cbx-node: " << s.message() << "\n";
    return 1;
  }
  (*node)->Run();
  return 0;
}
