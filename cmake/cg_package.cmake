# Debian package of the contactgate binary (CPack DEB): `cpack -G DEB` in a release build
# directory, or scripts/check_deb.sh (builds, inspects, verifies the unit, installs, runs).
#
#   /usr/bin/contactgate                           the binary (data compiled in)
#   /usr/lib/systemd/system/contactgate.service    Type=notify, hardened (deploy/systemd)
#   /etc/contactgate/contactgate.toml              the service's configuration (a conffile)
#   /usr/share/man/man1/contactgate.1.gz           from --help/--version by help2man
#   /usr/share/doc/contactgate/                    README.md, deploy/README.md, copyright,
#                                                  examples/contactgate-sasl.conf (drop-in)
#   /usr/share/contactgate/deploy/                 dashboards, alert rules, schema, chart
include_guard(GLOBAL)

# The man page: help2man runs the binary just built.
find_program(HELP2MAN help2man)
if(HELP2MAN)
  set(_cg_man ${PROJECT_BINARY_DIR}/contactgate.1)
  add_custom_command(
    OUTPUT ${_cg_man}.gz
    COMMAND ${HELP2MAN} --no-info --no-discard-stderr --include=${PROJECT_SOURCE_DIR}/deploy/systemd/contactgate.h2m
            "--name=validate contact upsert events from Kafka (Twilio 30647 rules)" --output=${_cg_man}
            $<TARGET_FILE:contactgate>
    COMMAND gzip -9nf ${_cg_man}
    DEPENDS contactgate ${PROJECT_SOURCE_DIR}/deploy/systemd/contactgate.h2m
    VERBATIM
    COMMENT "man page contactgate.1 (help2man)")
  add_custom_target(contactgate_man DEPENDS ${_cg_man}.gz)
  install(FILES ${_cg_man}.gz DESTINATION share/man/man1 OPTIONAL)
endif()

install(FILES deploy/systemd/contactgate.service DESTINATION lib/systemd/system)
install(FILES deploy/systemd/contactgate.toml DESTINATION /etc/contactgate)
install(FILES deploy/systemd/contactgate-sasl.conf DESTINATION share/doc/contactgate/examples)
install(FILES README.md DESTINATION share/doc/contactgate)
install(FILES deploy/README.md DESTINATION share/doc/contactgate RENAME deploy.md)

set(_cg_copyright ${PROJECT_BINARY_DIR}/copyright)
file(WRITE ${_cg_copyright}
     "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\nUpstream-Name: contactgate\n"
     "Files: *\nCopyright: the contactgate authors\nLicense: see the source repository\n")
install(FILES ${_cg_copyright} DESTINATION share/doc/contactgate)

# /etc/contactgate/contactgate.toml is a conffile: dpkg keeps local changes on upgrades.
set(_cg_conffiles ${PROJECT_BINARY_DIR}/debian/conffiles)
file(WRITE ${_cg_conffiles} "/etc/contactgate/contactgate.toml\n")
# The unit is neither enabled nor started on install: brokers must be configured first.
set(_cg_postinst ${PROJECT_BINARY_DIR}/debian/postinst)
file(WRITE ${_cg_postinst} "#!/bin/sh\nset -e\nif [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi\n"
     "echo 'contactgate: edit /etc/contactgate/contactgate.toml, then: systemctl enable --now contactgate'\n")
set(_cg_postrm ${PROJECT_BINARY_DIR}/debian/postrm)
file(WRITE ${_cg_postrm} "#!/bin/sh\nset -e\nif [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi\n")
set(_cg_prerm ${PROJECT_BINARY_DIR}/debian/prerm)
file(WRITE ${_cg_prerm} "#!/bin/sh\nset -e\nif [ -d /run/systemd/system ] && [ \"$1\" = remove ]; then systemctl stop contactgate.service || true; fi\n")
file(CHMOD ${_cg_postinst} ${_cg_postrm} ${_cg_prerm} PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ
     GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME contactgate)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "contactgate maintainers <contactgate@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Kafka stream processor validating contact upserts (Twilio 30647 rules)")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)  # Depends: from the binary's libraries (dpkg-shlibdeps)
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "ca-certificates")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA "${_cg_conffiles};${_cg_postinst};${_cg_prerm};${_cg_postrm}")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_WARN_ON_ABSOLUTE_INSTALL_DESTINATION OFF)
include(CPack)
