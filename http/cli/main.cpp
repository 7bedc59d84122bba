#include "http/cli/cli.h"

int main(int argc, char** argv) {
  return strato::cli::RunCli(argc, argv);
}
