# Small helpers in the manner of Abseil's absl_cc_library, so that each folder's
# CMakeLists.txt stays a few readable lines.
#
#   rexec_cc_library(NAME n SRCS ... DEPS ...)
#   rexec_cc_test(NAME n SRCS ... DEPS ... [NO_GRPC] [LAUNCHER cmd...])
#     a GoogleTest binary registered with ctest; LAUNCHER runs before it
#     (it must end by exec-ing its last argument, the test binary).
#     NO_GRPC: its main and precompiled headers bring no gRPC or protobuf
#     (a test of a room that must not use them)

function(rexec_cc_library)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS" ${ARGN})
  add_library(${ARG_NAME} STATIC ${ARG_SRCS})
  target_include_directories(${ARG_NAME} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(${ARG_NAME} PUBLIC ${ARG_DEPS})
endfunction()

function(rexec_cc_test)
  cmake_parse_arguments(ARG "NO_GRPC" "NAME;TIMEOUT" "SRCS;DEPS;LABELS;LAUNCHER" ${ARGN})
  set(main rexec_test_main)
  if(ARG_NO_GRPC)
    set(main rexec_plain_test_main)
  endif()
  add_executable(${ARG_NAME} ${ARG_SRCS})
  target_include_directories(${ARG_NAME} PRIVATE ${PROJECT_SOURCE_DIR})
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS} ${main})
  target_precompile_headers(${ARG_NAME} REUSE_FROM ${main})
  add_test(NAME ${ARG_NAME} COMMAND ${ARG_LAUNCHER} $<TARGET_FILE:${ARG_NAME}>)
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  set_tests_properties(${ARG_NAME} PROPERTIES TIMEOUT ${ARG_TIMEOUT}
    ENVIRONMENT "REXEC_BIN_DIR=${PROJECT_BINARY_DIR};REXEC_SOURCE_DIR=${PROJECT_SOURCE_DIR};${REXEC_SANITIZER_ENV}")
endfunction()
