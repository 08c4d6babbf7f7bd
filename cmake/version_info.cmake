# Writes OUT from IN with the version and commit, touching OUT only when
# they changed (so that a build with nothing new relinks nothing).
if(NOT COMMIT)
  execute_process(COMMAND git rev-parse --short=12 HEAD
    WORKING_DIRECTORY ${SOURCE_DIR}
    OUTPUT_VARIABLE COMMIT OUTPUT_STRIP_TRAILING_WHITESPACE
    ERROR_QUIET RESULT_VARIABLE git_failed)
  if(git_failed)
    set(COMMIT "")
  endif()
endif()
set(PROJECT_VERSION ${VERSION})
set(REXEC_COMMIT ${COMMIT})
configure_file(${IN} ${OUT}.new @ONLY)
file(COPY_FILE ${OUT}.new ${OUT} ONLY_IF_DIFFERENT)
