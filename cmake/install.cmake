# Install layout and the Debian package (cpack -G DEB). P is
# CMAKE_INSTALL_PREFIX as configured (the unit's ExecStart is written for it).
#   cmake --install build                P/bin/mqttty, P/share/man/man1/mqttty.1,
#       P/lib/systemd/system/mqttty.service (Linux), P/share/doc/mqttty/examples
#   deploy/package.sh                    build-deb/mqttty_VERSION_ARCH.deb (prefix /usr)
include(GNUInstallDirs)

install(TARGETS mqttty RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${CMAKE_SOURCE_DIR}/docs/mqttty.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)

set(MQTTTY_EXAMPLES
  ${CMAKE_SOURCE_DIR}/deploy/mosquitto-local.conf
  ${CMAKE_SOURCE_DIR}/deploy/mqttty.default
  ${CMAKE_SOURCE_DIR}/deploy/org.mqttty.plist)

if(CMAKE_SYSTEM_NAME STREQUAL "Linux")
  # The unit names the installed binary: its ExecStart follows the prefix.
  set(MQTTTY_SYSTEMD_UNIT_DIR "lib/systemd/system" CACHE STRING
      "where the systemd unit is installed (relative to the prefix)")
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
               ${CMAKE_SOURCE_DIR}/deploy/mqttty.service)
  file(READ ${CMAKE_SOURCE_DIR}/deploy/mqttty.service unit)
  string(REPLACE "ExecStart=/usr/local/bin/mqttty" "ExecStart=${CMAKE_INSTALL_FULL_BINDIR}/mqttty"
         unit "${unit}")
  file(WRITE ${CMAKE_BINARY_DIR}/mqttty.service "${unit}")
  install(FILES ${CMAKE_BINARY_DIR}/mqttty.service DESTINATION ${MQTTTY_SYSTEMD_UNIT_DIR})
  list(APPEND MQTTTY_EXAMPLES
    ${CMAKE_SOURCE_DIR}/deploy/mqttty-cuse.conf
    ${CMAKE_SOURCE_DIR}/deploy/70-mqttty-cuse.rules)
endif()
install(FILES ${MQTTTY_EXAMPLES} DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)

# ---- Debian package ---------------------------------------------------------
set(CPACK_PACKAGE_NAME mqttty)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "virtual serial ports over MQTT")
set(CPACK_PACKAGE_DESCRIPTION "mqttty hosts many virtual serial ports at once and bridges
each to MQTT: what an application writes to LINK_DIR/NAME is published on
mqttty/ID/NAME/tx, and what arrives on mqttty/ID/NAME/rx is what it reads.
Real serial devices are bridged the same way. A dashboard and a JSON API
are served on loopback. Runs as the systemd service mqttty (user mqttty).")
set(CPACK_PACKAGE_CONTACT "mqttty developers")
# the layout the unit was written for (deploy/package.sh configures /usr)
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Library dependencies from the binary (dpkg-shlibdeps); plus what is used
# without being linked: libwebsockets' libuv plugin (loaded at run time) and
# useradd for the postinst.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libwebsockets-evlib-uv, passwd")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "mosquitto")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "mosquitto-clients, picocom")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_SOURCE_DIR}/deploy/debian/postinst
    ${CMAKE_SOURCE_DIR}/deploy/debian/prerm
    ${CMAKE_SOURCE_DIR}/deploy/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
if(MQTTTY_DEB_ARCH)        # cross builds (cmake/cross-linux.cmake)
  set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE ${MQTTTY_DEB_ARCH})
endif()
set(CPACK_GENERATOR DEB)
include(CPack)
