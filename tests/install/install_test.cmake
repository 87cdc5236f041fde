# One step of the package test, run by ctest as `cmake -D... -P install_test.cmake`:
#
#   STEP=install   cmake --install the build tree's `raft` and `storage` components into PREFIX
#                  (emptied first), and check that the core's exported link interface names no
#                  gRPC, spdlog or fmt
#   STEP=deb       cpack -G DEB the `server` component of BUILD_TREE into BINARY and read the
#                  package back (programs in /usr/bin, shared-library dependencies named)
#   STEP=project   configure and build the project in SOURCE against PREFIX with
#                  find_package(raftkv), in BINARY; then run RUN (relative to BINARY) if given
#
# The child build uses the compiler, generator and build type of the tree under test, so the
# package is consumed the way that tree built it (sanitized static libraries included).
cmake_minimum_required(VERSION 3.25)

function(run)
  execute_process(COMMAND ${ARGV} RESULT_VARIABLE result)
  if(NOT result EQUAL 0)
    list(JOIN ARGV " " command)
    message(FATAL_ERROR "failed (${result}): ${command}")
  endif()
endfunction()

if(STEP STREQUAL "install")
  file(REMOVE_RECURSE ${PREFIX})
  foreach(component raft storage)
    run(${CMAKE_COMMAND} --install ${BUILD_TREE} --prefix ${PREFIX} --component ${component})
  endforeach()
  # The core's promise to embedders: its installed link interface is protobuf and abseil only.
  file(GLOB core_targets ${PREFIX}/lib*/cmake/raftkv/raftkvRaftTargets*.cmake)
  if(NOT core_targets)
    message(FATAL_ERROR "no raftkvRaftTargets.cmake under ${PREFIX}")
  endif()
  foreach(file ${core_targets})
    file(STRINGS ${file} links REGEX "INTERFACE_LINK_LIBRARIES")
    foreach(line ${links})
      if(line MATCHES "(grpc|GRPC|spdlog|fmt::)")
        message(FATAL_ERROR "raftkv::raft's installed link interface names ${CMAKE_MATCH_1}: ${line}")
      endif()
    endforeach()
  endforeach()
elseif(STEP STREQUAL "project")
  file(REMOVE_RECURSE ${BINARY})
  run(${CMAKE_COMMAND} -S ${SOURCE} -B ${BINARY} -G ${GENERATOR}
    -DCMAKE_CXX_COMPILER=${CXX_COMPILER}
    -DCMAKE_BUILD_TYPE=${BUILD_TYPE}
    -DCMAKE_PREFIX_PATH=${PREFIX}
    -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF)
  run(${CMAKE_COMMAND} --build ${BINARY} -j2)
  if(RUN)
    run(${BINARY}/${RUN})
  endif()
elseif(STEP STREQUAL "deb")
  # cpack -G DEB of the `server` component; the package must hold the programs, name its
  # shared-library dependencies and install into /usr/bin.
  file(REMOVE_RECURSE ${BINARY})
  file(MAKE_DIRECTORY ${BINARY})
  run(cpack -G DEB --config ${BUILD_TREE}/CPackConfig.cmake -B ${BINARY})
  file(GLOB packages ${BINARY}/raftkv-server_*.deb)
  list(LENGTH packages count)
  if(NOT count EQUAL 1)
    message(FATAL_ERROR "expected one raftkv-server_*.deb in ${BINARY}, found: ${packages}")
  endif()
  execute_process(COMMAND dpkg-deb --contents ${packages} OUTPUT_VARIABLE contents
    RESULT_VARIABLE result)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "dpkg-deb --contents failed on ${packages}")
  endif()
  foreach(program raftkv-server raftkv raftkv-bench raftkv-wal)
    if(NOT contents MATCHES "\\./usr/bin/${program}\n")
      message(FATAL_ERROR "${program} is not in /usr/bin of the package:\n${contents}")
    endif()
  endforeach()
  execute_process(COMMAND dpkg-deb --field ${packages} Package Depends
    OUTPUT_VARIABLE fields RESULT_VARIABLE result)
  if(NOT result EQUAL 0 OR NOT fields MATCHES "Package: raftkv-server"
     OR NOT fields MATCHES "Depends:.*libgrpc")
    message(FATAL_ERROR "unexpected package fields:\n${fields}")
  endif()
else()
  message(FATAL_ERROR "unknown STEP '${STEP}'")
endif()
