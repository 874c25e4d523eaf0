# Fast-flux detector dependencies (Debian packages, see scripts/deps.sh): libpcap, libfstrm,
# protobuf-c (C code generated at build time from the dnstap.proto Debian ships), libmaxminddb,
# libgeoip
# and libunbound, all linked into greyflux_io where the capture and resolver adapters live.
enable_language(C)
pkg_check_modules(PCAP REQUIRED IMPORTED_TARGET libpcap)
pkg_check_modules(FSTRM REQUIRED IMPORTED_TARGET libfstrm)
pkg_check_modules(PROTOBUF_C REQUIRED IMPORTED_TARGET libprotobuf-c)
pkg_check_modules(MAXMINDDB REQUIRED IMPORTED_TARGET libmaxminddb)
# libgeoip reads Debian's legacy country database (geoip-database, recommended, optional at run
# time): the country fallback of the flux detector without ASN data.
pkg_check_modules(GEOIP REQUIRED IMPORTED_TARGET geoip)
# libunbound.pc lists libevent and nettle as private requirements whose -dev packages are not
# needed for dynamic linking, so the library is found directly.
find_path(GF_UNBOUND_INCLUDE unbound.h REQUIRED)
find_library(GF_UNBOUND_LIBRARY unbound REQUIRED)
add_library(gf_unbound INTERFACE)
target_include_directories(gf_unbound SYSTEM INTERFACE ${GF_UNBOUND_INCLUDE})
target_link_libraries(gf_unbound INTERFACE ${GF_UNBOUND_LIBRARY})
find_program(PROTOC_C protoc-c REQUIRED)

# dnstap.proto: the copy Debian ships with golang-github-dnstap-golang-dnstap-dev.
find_file(GF_DNSTAP_PROTO dnstap.proto
          PATHS /usr/share/gocode/src/github.com/dnstap/golang-dnstap/dnstap.pb
          NO_DEFAULT_PATH REQUIRED)
get_filename_component(GF_DNSTAP_PROTO_DIR ${GF_DNSTAP_PROTO} DIRECTORY)
set(GF_DNSTAP_OUT ${CMAKE_BINARY_DIR}/generated/dnstap)
add_custom_command(
  OUTPUT ${GF_DNSTAP_OUT}/dnstap.pb-c.c ${GF_DNSTAP_OUT}/dnstap.pb-c.h
  COMMAND ${CMAKE_COMMAND} -E make_directory ${GF_DNSTAP_OUT}
  COMMAND ${PROTOC_C} --c_out=${GF_DNSTAP_OUT} --proto_path=${GF_DNSTAP_PROTO_DIR} ${GF_DNSTAP_PROTO}
  DEPENDS ${GF_DNSTAP_PROTO}
  COMMENT "protoc-c dnstap.proto")
add_library(gf_dnstap_pb STATIC ${GF_DNSTAP_OUT}/dnstap.pb-c.c)
target_include_directories(gf_dnstap_pb SYSTEM PUBLIC ${CMAKE_BINARY_DIR}/generated)
target_link_libraries(gf_dnstap_pb PUBLIC PkgConfig::PROTOBUF_C)
set_target_properties(gf_dnstap_pb PROPERTIES POSITION_INDEPENDENT_CODE ON)
target_compile_options(gf_dnstap_pb PRIVATE -w)

# The flux adapters (src/io/capture, src/io/flux) form their own library, so that the flux fuzz
# targets link them without the Asio servers of greyflux_io; greyflux_io re-exports it. The
# whole-file reader and atomic writer (src/io/sys/file.cpp) live there too: the flux adapters
# use them and greyflux_io gets them through the re-export.
get_target_property(GF_IO_ALL greyflux_io SOURCES)
set(GF_FLUX_IO_SOURCES ${GF_IO_ALL})
list(FILTER GF_FLUX_IO_SOURCES INCLUDE REGEX "src/io/(capture|flux)/|src/io/sys/file\\.cpp")
list(FILTER GF_IO_ALL EXCLUDE REGEX "src/io/(capture|flux)/|src/io/sys/file\\.cpp")
set_property(TARGET greyflux_io PROPERTY SOURCES ${GF_IO_ALL})
add_library(greyflux_flux_io STATIC ${GF_FLUX_IO_SOURCES})
target_include_directories(greyflux_flux_io PUBLIC src)
target_include_directories(greyflux_flux_io SYSTEM PUBLIC ${Boost_INCLUDE_DIRS})
target_link_libraries(greyflux_flux_io PUBLIC greyflux_core Boost::json gf_dnstap_pb PkgConfig::PCAP
                                              PkgConfig::FSTRM PkgConfig::MAXMINDDB PkgConfig::GEOIP gf_unbound
                                              Threads::Threads)
target_link_libraries(greyflux_io PUBLIC greyflux_flux_io)
