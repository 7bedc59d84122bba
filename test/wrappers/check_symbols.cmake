# The wrapper rules, checked on the built libraries rather than in prose: each C library is
# called from the one Strato library that wraps it, and from no other.
#   libpq      only strato_pg
#   nats.c     only strato_bus and strato_bus_uv (hostd's connection on its loop)
#   libuv      only strato_hostd and strato_bus_uv
#   cpp-httplib only strato_http_server (header-only: any symbol of namespace httplib counts)
# Run as: cmake -DNM=<nm> "-DLIBRARIES=name=path;name=path;..." -P check_symbols.cmake
# A library that refers to a symbol of a library it must not use fails the test, naming both.
cmake_policy(SET CMP0057 NEW)  # if(... IN_LIST ...)
if(NOT NM OR NOT LIBRARIES)
  message(FATAL_ERROR "usage: cmake -DNM=<nm> -DLIBRARIES=name=path;... -P check_symbols.cmake")
endif()

# rule name | regular expression over `nm -C` symbol names | libraries allowed to use it
set(RULES
  "libpq|^(PQ[a-zA-Z]|lo_(open|close|read|write|creat|import|export)$)|strato_pg"
  "nats.c|^(nats[A-Z]|nats_|js_|jsOptions_|jsCtx|kvStore_|natsLibuv_)|strato_bus,strato_bus_uv"
  "libuv|^uv_|strato_hostd,strato_bus_uv"
  "cpp-httplib|httplib::|strato_http_server")

set(problems "")
set(checked 0)
foreach(entry IN LISTS LIBRARIES)
  string(REPLACE "=" ";" pair "${entry}")
  list(GET pair 0 name)
  list(GET pair 1 path)
  if(NOT EXISTS "${path}")
    message(FATAL_ERROR "${name}: ${path} does not exist (build it first)")
  endif()
  execute_process(COMMAND ${NM} -C --format=posix "${path}" OUTPUT_VARIABLE symbols
                  RESULT_VARIABLE rc ERROR_QUIET)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${NM} failed on ${path}")
  endif()
  math(EXPR checked "${checked} + 1")
  string(REPLACE ";" "\\;" symbols "${symbols}")
  string(REPLACE "\n" ";" lines "${symbols}")
  foreach(rule IN LISTS RULES)
    string(REPLACE "|" ";" parts "${rule}")
    list(GET parts 0 what)
    list(LENGTH parts n)
    math(EXPR last "${n} - 1")
    list(GET parts ${last} allowed)
    # The expression may itself hold '|': it is everything between the first and last field.
    string(FIND "${rule}" "|" first)
    string(FIND "${rule}" "|" final REVERSE)
    math(EXPR start "${first} + 1")
    math(EXPR length "${final} - ${start}")
    string(SUBSTRING "${rule}" ${start} ${length} regex)
    string(REPLACE "," ";" allowed "${allowed}")
    if(name IN_LIST allowed)
      continue()
    endif()
    set(found "")
    foreach(line IN LISTS lines)
      # posix format: "name type [value size]"; an object's header line ends with ':'.
      if(line MATCHES ":$" OR line STREQUAL "")
        continue()
      endif()
      string(REGEX REPLACE " [A-Za-z?] .*$| [A-Za-z?]$" "" symbol "${line}")
      if(symbol MATCHES "${regex}")
        set(found "${symbol}")
        break()
      endif()
    endforeach()
    if(NOT found STREQUAL "")
      string(APPEND problems "\n  ${name} uses ${what} (${found}); only ${allowed} may")
    endif()
  endforeach()
endforeach()
if(NOT problems STREQUAL "")
  message(FATAL_ERROR "a wrapper rule is broken:${problems}")
endif()
message(STATUS "wrapper rules hold in ${checked} libraries")
