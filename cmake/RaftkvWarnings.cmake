# raftkv_target_warnings(target): the project's warning policy, applied to our own targets only
# (generated protobuf code is compiled without -Werror because we do not control it).
function(raftkv_target_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror -Wno-unused-parameter)
endfunction()

# raftkv_add_test(name SOURCES ... DEPS ... [LABELS ...] [TIMEOUT seconds]): one GoogleTest
# binary registered with ctest, one ctest entry per test case. TIMEOUT replaces ctest's default
# (600 s in the presets) for binaries whose cases are long sweeps: on a machine busy with other
# work they take several times their usual few minutes, and only a hang should fail them.
function(raftkv_add_test name)
  cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;DEPS;LABELS" ${ARGN})
  if(NOT RAFTKV_BUILD_TESTS)
    return()
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  raftkv_target_warnings(${name})
  set(labels unit)
  if(ARG_LABELS)
    set(labels ${ARG_LABELS})
  endif()
  set(properties LABELS "${labels}")
  if(ARG_TIMEOUT)
    list(APPEND properties TIMEOUT ${ARG_TIMEOUT})
  endif()
  gtest_discover_tests(${name}
    WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}
    PROPERTIES ${properties}
    DISCOVERY_TIMEOUT 60)
endfunction()
