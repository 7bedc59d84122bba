// api_http_test: to be written.
#include <doctest/doctest.h>
