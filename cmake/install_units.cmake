# Run by `cmake --install` (and CPack): the systemd units and the flags file
# with the paths of this install. A flags file already there is the
# administrator's and stays.
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(SYSCONFDIR /etc)
else()
  set(SYSCONFDIR ${CMAKE_INSTALL_PREFIX}/etc)
endif()
set(SBINDIR ${CMAKE_INSTALL_PREFIX}/sbin)
set(root "$ENV{DESTDIR}")
message(STATUS "Installing: ${root}${CMAKE_INSTALL_PREFIX}/lib/systemd/system/rexecd.service")
configure_file(${REXEC_SOURCE_DIR}/deploy/systemd/rexecd.service.in
               ${root}${CMAKE_INSTALL_PREFIX}/lib/systemd/system/rexecd.service
               @ONLY)
message(STATUS "Installing: ${root}${CMAKE_INSTALL_PREFIX}/lib/systemd/system/rexecd.socket")
file(COPY ${REXEC_SOURCE_DIR}/deploy/systemd/rexecd.socket
     DESTINATION ${root}${CMAKE_INSTALL_PREFIX}/lib/systemd/system)
# Policies, tokens and keys go here too: only root reads it.
file(MAKE_DIRECTORY ${root}${SYSCONFDIR}/rexec)
file(CHMOD ${root}${SYSCONFDIR}/rexec
     DIRECTORY_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE)
if(NOT EXISTS ${root}${SYSCONFDIR}/rexec/rexecd.env)
  message(STATUS "Installing: ${root}${SYSCONFDIR}/rexec/rexecd.env")
  file(COPY ${REXEC_SOURCE_DIR}/deploy/systemd/rexecd.env
       DESTINATION ${root}${SYSCONFDIR}/rexec
       FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
endif()
