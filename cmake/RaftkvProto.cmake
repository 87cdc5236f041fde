# raftkv_proto_library(target PROTO_ROOT dir PROTOS a.proto b.proto [GRPC])
#
# Debian's protobuf and gRPC packages ship no CMake package config, so the code is generated
# with an explicit protoc call. Generated files land in the build tree under the same relative
# paths as the .proto files, and that directory is exported as an include path. Installed, the
# generated headers sit under include/ at the same relative paths (raftkv/raftpb/raft.pb.h), so
# the installed include path is include/.
function(raftkv_proto_library target)
  cmake_parse_arguments(ARG "GRPC" "PROTO_ROOT" "PROTOS" ${ARGN})
  set(out_dir ${CMAKE_CURRENT_BINARY_DIR}/gen)
  file(MAKE_DIRECTORY ${out_dir})
  set(srcs)
  set(hdrs)
  foreach(proto ${ARG_PROTOS})
    get_filename_component(abs ${ARG_PROTO_ROOT}/${proto} ABSOLUTE)
    string(REGEX REPLACE "\\.proto$" "" stem ${proto})
    set(outputs ${out_dir}/${stem}.pb.cc ${out_dir}/${stem}.pb.h)
    set(args --cpp_out=${out_dir} -I ${ARG_PROTO_ROOT})
    if(ARG_GRPC)
      list(APPEND outputs ${out_dir}/${stem}.grpc.pb.cc ${out_dir}/${stem}.grpc.pb.h)
      list(APPEND args --grpc_out=${out_dir} --plugin=protoc-gen-grpc=${GRPC_CPP_PLUGIN})
    endif()
    add_custom_command(
      OUTPUT ${outputs}
      COMMAND protobuf::protoc ${args} ${abs}
      DEPENDS ${abs} protobuf::protoc
      COMMENT "protoc ${proto}"
      VERBATIM)
    list(APPEND srcs ${out_dir}/${stem}.pb.cc)
    if(ARG_GRPC)
      list(APPEND srcs ${out_dir}/${stem}.grpc.pb.cc)
    endif()
  endforeach()
  add_library(${target} STATIC ${srcs})
  target_include_directories(${target}
    PUBLIC $<BUILD_INTERFACE:${out_dir}> $<INSTALL_INTERFACE:include>)
  # Where its headers are generated, for the install rules.
  set_property(TARGET ${target} PROPERTY RAFTKV_GENERATED_DIR ${out_dir})
  target_link_libraries(${target} PUBLIC protobuf::libprotobuf)
  if(ARG_GRPC)
    target_link_libraries(${target} PUBLIC PkgConfig::GRPCPP)
  endif()
endfunction()
