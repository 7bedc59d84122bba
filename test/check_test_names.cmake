# Fails when a doctest case name holds ',' or ';': ctest runs each case by name through
# doctest's filter, where those characters split the name, so such a case would run nothing
# and still "pass". Run as: cmake -DBINARY=<test binary> -P check_test_names.cmake
execute_process(COMMAND ${BINARY} --list-test-cases --no-intro=true --no-version=true
                OUTPUT_VARIABLE listing RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${BINARY} --list-test-cases failed (${rc})")
endif()
string(REPLACE "\n" "|" lines "${listing}")
string(REGEX MATCHALL "[^|]*[,;][^|]*" bad "${lines}")
foreach(name ${bad})
  if(NOT name MATCHES "^\\[doctest\\]" AND NOT name MATCHES "^=+$")
    message(SEND_ERROR "test case name has ',' or ';' and cannot be selected by ctest: ${name}")
  endif()
endforeach()
