# Installing rexec on an ordinary machine, and CPack's Debian package of it
# (cpack -G DEB: rexec_VERSION_amd64.deb): rexec in bin, rexecd in sbin,
# their man pages rexec(1) and rexecd(8), made from their own --help by
# help2man when they are built (scripts/man_page.sh: the page cannot drift
# from the help), bash completion made by `rexec completion bash`, the
# systemd unit and the flags file in /etc/rexec/.
include(GNUInstallDirs)

install(TARGETS rexec RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS rexecd RUNTIME DESTINATION ${CMAKE_INSTALL_SBINDIR})

find_program(HELP2MAN help2man REQUIRED)
set(REXEC_GENERATED ${PROJECT_BINARY_DIR}/generated)
set(REXEC_MAN_PAGES ${REXEC_GENERATED}/rexec.1.gz ${REXEC_GENERATED}/rexecd.8.gz)
add_custom_command(OUTPUT ${REXEC_MAN_PAGES}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${REXEC_GENERATED}
  COMMAND bash ${PROJECT_SOURCE_DIR}/scripts/man_page.sh $<TARGET_FILE:rexec>
          1 "run processes on a rexecd server" ${REXEC_GENERATED}/rexec.1.gz
  COMMAND bash ${PROJECT_SOURCE_DIR}/scripts/man_page.sh $<TARGET_FILE:rexecd>
          8 "run child processes for rexec clients (gRPC)"
          ${REXEC_GENERATED}/rexecd.8.gz
  DEPENDS rexec rexecd ${PROJECT_SOURCE_DIR}/scripts/man_page.sh
  COMMENT "Man pages from rexec's and rexecd's --help"
  VERBATIM)
add_custom_command(OUTPUT ${REXEC_GENERATED}/rexec.bash
  COMMAND ${CMAKE_COMMAND} -E make_directory ${REXEC_GENERATED}
  COMMAND sh -c "\"$1\" completion bash > \"$2\"" sh $<TARGET_FILE:rexec>
          ${REXEC_GENERATED}/rexec.bash
  DEPENDS rexec
  COMMENT "Bash completion from rexec's commands and flags"
  VERBATIM)
add_custom_target(rexec_docs ALL
  DEPENDS ${REXEC_MAN_PAGES} ${REXEC_GENERATED}/rexec.bash)

install(FILES ${REXEC_GENERATED}/rexec.1.gz
        DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${REXEC_GENERATED}/rexecd.8.gz
        DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)
install(FILES ${REXEC_GENERATED}/rexec.bash
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
        RENAME rexec)
# The unit names rexecd and its flags file where this install puts them,
# which is known only at install time (cmake --install --prefix P, or /usr
# in the package): /etc for the prefix /usr, else PREFIX/etc.
install(CODE "set(REXEC_SOURCE_DIR \"${PROJECT_SOURCE_DIR}\")")
install(SCRIPT ${PROJECT_SOURCE_DIR}/cmake/install_units.cmake)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME rexec)
set(CPACK_PACKAGE_VENDOR "the rexec project")
set(CPACK_PACKAGE_CONTACT "rexec maintainers <rexec@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "remote process execution over gRPC (Node.js child_process semantics)")
set(CPACK_PACKAGE_DESCRIPTION
    "rexecd runs child processes for clients anywhere over gRPC: Spawn,\nExec and Fork with streaming stdin, stdout, stderr, signals and exit\nstatus. rexec is its command-line client.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
# The runtime libraries the binaries link, as dpkg-shlibdeps finds them.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# procps: the unit's reload (/bin/kill -HUP); adduser: the group rexec.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser, procps")
# --front haproxy.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "haproxy")
# The debugging symbols of a RelWithDebInfo build stay in the build.
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/deploy/debian/conffiles
    ${PROJECT_SOURCE_DIR}/deploy/debian/postinst
    ${PROJECT_SOURCE_DIR}/deploy/debian/prerm
    ${PROJECT_SOURCE_DIR}/deploy/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
