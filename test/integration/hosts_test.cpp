// hosts_test: to be written.
#include <doctest/doctest.h>
