# `cmake --install` rules: the consensus core as a CMake package.
#
#   find_package(raftkv REQUIRED)
#   target_link_libraries(app PRIVATE raftkv::raft)
#
# Component `raft` (the package's default): raftkv::raft with its public headers
# (include/raftkv/raft), the generated raftpb message headers beside them
# (include/raftkv/raftpb/raft.pb.h) and the two static libraries it links, raftkv::raftpb and
# raftkv::base. Its link interface is protobuf and abseil only, and the package config finds
# those two for the consumer.
#
# Component `storage` (asked for with find_package(raftkv COMPONENTS storage)): see below.
#
# The same names exist in the build tree as aliases, so the examples also build inside it.
include(CMakePackageConfigHelpers)
include(GNUInstallDirs)

set(RAFTKV_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/raftkv)

# Gives `target` its package name (raftkv_foo -> raftkv::foo, also as an alias in this tree).
function(raftkv_prepare_export target)
  string(REGEX REPLACE "^raftkv_" "" export_name ${target})
  set_target_properties(${target} PROPERTIES EXPORT_NAME ${export_name})
  add_library(raftkv::${export_name} ALIAS ${target})
  # The sanitizers are global compile and link options of this build, not part of any target.
  # A program linking a sanitized static library needs the sanitizer runtimes too, so the
  # installed targets carry the link option.
  if(RAFTKV_SANITIZE)
    target_link_options(${target} INTERFACE $<INSTALL_INTERFACE:-fsanitize=address,undefined>)
  endif()
endfunction()

set(raftkv_core_targets raftkv_raft raftkv_raftpb raftkv_base)
foreach(target ${raftkv_core_targets})
  raftkv_prepare_export(${target})
endforeach()

install(TARGETS ${raftkv_core_targets}
  EXPORT raftkvRaftTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT raft)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/raftkv/raft
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/raftkv
  COMPONENT raft
  FILES_MATCHING PATTERN "*.h")
get_target_property(raftpb_generated_dir raftkv_raftpb RAFTKV_GENERATED_DIR)
install(FILES ${raftpb_generated_dir}/raftkv/raftpb/raft.pb.h
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/raftkv/raftpb
  COMPONENT raft)
install(EXPORT raftkvRaftTargets
  NAMESPACE raftkv::
  DESTINATION ${RAFTKV_INSTALL_CMAKEDIR}
  COMPONENT raft)

# Component `storage`: raftkv::storage, the durable raft log (DurableStorage: WAL, snapshot
# files, recovery; a raft::Storage), and raftkv::io, the file-system Env it writes through. Their
# headers use the source tree's include paths ("storage/wal.h", "io/env.h"), so they are installed
# under include/raftkv/{storage,io} and include/raftkv is on their installed include path. These
# two link fmt as well; the config finds it only when the component is asked for.
set(raftkv_storage_targets raftkv_storage raftkv_io)
foreach(target ${raftkv_storage_targets})
  raftkv_prepare_export(${target})
endforeach()
install(TARGETS ${raftkv_storage_targets}
  EXPORT raftkvStorageTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT storage)
install(FILES ${PROJECT_SOURCE_DIR}/src/io/env.h
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/raftkv/io
  COMPONENT storage)
# Every header of the library; test_util.h belongs to its tests.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/src/storage/
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/raftkv/storage
  COMPONENT storage
  FILES_MATCHING PATTERN "*.h" PATTERN "test_util.h" EXCLUDE)
install(EXPORT raftkvStorageTargets
  NAMESPACE raftkv::
  DESTINATION ${RAFTKV_INSTALL_CMAKEDIR}
  COMPONENT storage)

configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/raftkvConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/raftkvConfig.cmake
  INSTALL_DESTINATION ${RAFTKV_INSTALL_CMAKEDIR})
# 0.x: a minor version may change the API, so only the same minor version is compatible.
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/raftkvConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES
    ${CMAKE_CURRENT_BINARY_DIR}/raftkvConfig.cmake
    ${CMAKE_CURRENT_BINARY_DIR}/raftkvConfigVersion.cmake
  DESTINATION ${RAFTKV_INSTALL_CMAKEDIR}
  COMPONENT raft)

# Component `server`: the programs an operator runs (raftkv-server; raftkv, the command-line
# client; raftkv-bench; raftkv-wal, the log inspector), into bin/. With CPack they make the Debian
# package `raftkv-server`:
#
#   cmake --preset release && cmake --build --preset release
#   cd build/release && cpack -G DEB      # raftkv-server_<version>_<arch>.deb
#
# Its dependencies are the shared libraries the programs link, found by dpkg-shlibdeps.
set(raftkv_server_programs raftkv-server raftkv raftkv-bench raftkv-wal)
foreach(program ${raftkv_server_programs})
  if(TARGET ${program})
    install(TARGETS ${program} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT server)
  endif()
endforeach()

set(CPACK_PACKAGE_NAME raftkv)
set(CPACK_PACKAGE_VENDOR "raftkv")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "Replicated key-value store speaking etcd's v3 API, built on a Raft library")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "raftkv maintainers <raftkv@localhost>")
set(CPACK_COMPONENTS_ALL server)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_SERVER_PACKAGE_NAME raftkv-server)
set(CPACK_DEBIAN_SERVER_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION database)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_STRIP_FILES ON)
include(CPack)
