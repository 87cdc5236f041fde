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
# The same names exist in the build tree as aliases, so the examples also build inside it.
include(CMakePackageConfigHelpers)
include(GNUInstallDirs)

set(RAFTKV_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/raftkv)

set(raftkv_core_targets raftkv_raft raftkv_raftpb raftkv_base)
foreach(target ${raftkv_core_targets})
  string(REGEX REPLACE "^raftkv_" "" export_name ${target})
  set_target_properties(${target} PROPERTIES EXPORT_NAME ${export_name})
  add_library(raftkv::${export_name} ALIAS ${target})
  # The sanitizers are global compile and link options of this build, not part of any target.
  # A program linking a sanitized static library needs the sanitizer runtimes too, so the
  # installed targets carry the link option.
  if(RAFTKV_SANITIZE)
    target_link_options(${target} INTERFACE $<INSTALL_INTERFACE:-fsanitize=address,undefined>)
  endif()
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
