# Installation in FHS places, and the Debian package (scripts/package runs
# cpack). Included by the top-level CMakeLists.txt once the cxtrace target
# exists. Every path is relative to the prefix: `cmake --install build
# --prefix /usr` and the package (whose prefix is /usr) give the same tree:
#   bin/cxtrace
#   libexec/cxtrace/<workload>              one per lesson
#   share/man/man1/cxtrace*.1.gz            cxtrace(1) and one page per subcommand
#   share/bash-completion/completions/cxtrace
#   share/doc/cxtrace/README.md
#   share/cxtrace/labs/<sheet>.toml          the lab sheets (cxtrace lab), and
#   share/cxtrace/labs/python/<program>.py   the Python programs two of them trace
# The binary finds the sheets relative to its own directory, as the workloads.
include(GNUInstallDirs)

set(CXTRACE_WORKLOADS_INSTALL_DIR ${CMAKE_INSTALL_LIBEXECDIR}/cxtrace)
set(CXTRACE_LAB_SHEETS_INSTALL_DIR ${CMAKE_INSTALL_DATADIR}/cxtrace/labs)

# The binary finds its workloads from its own path (/proc/self/exe), so an
# installed tree works under any prefix, and so does an extracted package.
file(RELATIVE_PATH workloads_from_bindir ${CMAKE_INSTALL_FULL_BINDIR}
     ${CMAKE_INSTALL_FULL_LIBEXECDIR}/cxtrace)
file(RELATIVE_PATH labs_from_bindir ${CMAKE_INSTALL_FULL_BINDIR}
     ${CMAKE_INSTALL_PREFIX}/${CXTRACE_LAB_SHEETS_INSTALL_DIR})
target_compile_definitions(cxtrace PRIVATE CXTRACE_WORKLOADS_FROM_BINDIR="${workloads_from_bindir}"
  CXTRACE_LABS_FROM_BINDIR="${labs_from_bindir}")

set(CMAKE_INSTALL_DEFAULT_DIRECTORY_PERMISSIONS
    OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
install(TARGETS cxtrace RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS ${CXTRACE_WORKLOADS} RUNTIME DESTINATION ${CXTRACE_WORKLOADS_INSTALL_DIR})
foreach(file ${CXTRACE_LAB_FILES})
  get_filename_component(subdir ${file} DIRECTORY)
  install(FILES ${CMAKE_SOURCE_DIR}/workloads/labs/${file} DESTINATION ${CXTRACE_LAB_SHEETS_INSTALL_DIR}/${subdir})
endforeach()

# Man pages, written by hand (userspace/cli/man/), gzipped as Debian wants.
set(CXTRACE_MAN_PAGES cxtrace.1 cxtrace-run.1 cxtrace-report.1 cxtrace-compare.1 cxtrace-class.1 cxtrace-list.1 cxtrace-lab.1)
set(man_gz)
foreach(page ${CXTRACE_MAN_PAGES})
  set(source ${CMAKE_SOURCE_DIR}/userspace/cli/man/${page})
  set(gz ${CMAKE_BINARY_DIR}/man/${page}.gz)
  add_custom_command(OUTPUT ${gz}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/man
    COMMAND gzip -9 -n -c ${source} > ${gz}
    DEPENDS ${source}
    COMMENT "Compressing the man page ${page}")
  list(APPEND man_gz ${gz})
endforeach()
add_custom_target(man_pages ALL DEPENDS ${man_gz})
install(FILES ${man_gz} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)

# Bash completion: the workload names come from the list the workloads are
# built from (a test checks it against `cxtrace list`).
string(REPLACE ";" " " CXTRACE_WORKLOAD_NAMES "${CXTRACE_WORKLOADS}")
set(lab_sheet_names)
foreach(file ${CXTRACE_LAB_FILES})
  if(file MATCHES "^([^/]+)\\.toml$")
    list(APPEND lab_sheet_names ${CMAKE_MATCH_1})
  endif()
endforeach()
string(REPLACE ";" " " CXTRACE_LAB_SHEET_NAMES "${lab_sheet_names}")
set(CXTRACE_WORKLOADS_FROM_BINDIR ${workloads_from_bindir})
configure_file(${CMAKE_SOURCE_DIR}/userspace/cli/completion/cxtrace.bash.in
               ${CMAKE_BINARY_DIR}/completion/cxtrace @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/completion/cxtrace
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions)

install(FILES ${CMAKE_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})

# The Debian package: cxtrace_<version>_<arch>.deb. dpkg-shlibdeps (dpkg-dev)
# derives the library dependencies from the installed binaries (libbpf1, and
# through it libelf1 and zlib1g; libc6, libstdc++6, libgcc-s1); the rest is
# what the maintainer scripts in cmake/debian/ use: debconf, setcap
# (libcap2-bin) and groupadd (passwd).
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME cxtrace)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "see processes and threads being created, share memory and run on CPUs")
# The extended description; CPack puts the summary above it.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "cxtrace runs a program (a bundled lesson workload, or any command) and
watches it from inside the kernel with eBPF while it creates processes and
threads. Its reports (HTML, JSON, terminal, Perfetto) show, from kernel
timestamps, what creating each task cost, which tasks share an address
space, what getpid() and gettid() really are, and on which CPUs each task
ran. Made for kernel-course lab sessions.")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "cxtrace developers")
set(CPACK_DEBIAN_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "debconf (>= 0.5) | debconf-2.0, libcap2-bin, passwd")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_SOURCE_DIR}/cmake/debian/config ${CMAKE_SOURCE_DIR}/cmake/debian/templates
    ${CMAKE_SOURCE_DIR}/cmake/debian/postinst ${CMAKE_SOURCE_DIR}/cmake/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
set(CPACK_STRIP_FILES TRUE)
include(CPack)
