// The `strato` command line: migrate, serve, relay, events, audit verify. RunCli parses
// arguments, reads configuration from the environment (printing a sentence naming any bad
// variable), runs the subcommand on the calling thread and returns the process exit code.
#pragma once

namespace strato::cli {

int RunCli(int argc, char** argv);

}  // namespace strato::cli
