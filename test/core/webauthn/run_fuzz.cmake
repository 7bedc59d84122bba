# Runs the CBOR fuzz target for a short, bounded time on a seed corpus made from the
# conformance cases. Run as:
#   cmake -DFUZZER=<fuzz binary> -DSEEDER=<webauthn_fuzz_seeds> -DCASES=<conformance dir>
#         -DCORPUS=<work dir> -DSECONDS=20 -P run_fuzz.cmake
file(MAKE_DIRECTORY ${CORPUS})
execute_process(COMMAND ${SEEDER} ${CASES} ${CORPUS} RESULT_VARIABLE seed_rc)
if(NOT seed_rc EQUAL 0)
  message(FATAL_ERROR "writing the seed corpus failed (${seed_rc})")
endif()
execute_process(COMMAND ${FUZZER} -max_total_time=${SECONDS} -rss_limit_mb=1024
                        -print_final_stats=1 ${CORPUS}
                RESULT_VARIABLE fuzz_rc)
if(NOT fuzz_rc EQUAL 0)
  message(FATAL_ERROR "the fuzzer found a failure (exit ${fuzz_rc}); the crashing input is in "
                      "the working directory as crash-*")
endif()
