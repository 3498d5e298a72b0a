# bpf_object(NAME SOURCE): compile a CO-RE BPF program and generate its
# libbpf skeleton. Defines the INTERFACE target NAME_skel, which carries the
# skeleton's include directory and the libraries it needs.
#
#   vmlinux.h  <- bpftool btf dump file /sys/kernel/btf/vmlinux format c
#   NAME.bpf.o <- clang -target bpf (CO-RE relocations, -g for BTF)
#   NAME.skel.h <- bpftool gen skeleton

find_program(BPF_CLANG NAMES clang clang-14 REQUIRED)
find_program(BPFTOOL NAMES bpftool PATHS /usr/sbin /usr/local/sbin REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(LIBBPF REQUIRED IMPORTED_TARGET libbpf>=1.0)
set(KERNEL_BTF /sys/kernel/btf/vmlinux CACHE FILEPATH "BTF of the kernel the BPF side is built against")

if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
  set(BPF_TARGET_ARCH x86)
else()
  message(FATAL_ERROR "cxtrace's BPF side is written for x86-64 (syscall numbers, pt_regs)")
endif()

set(BPF_GEN_DIR ${CMAKE_BINARY_DIR}/bpf)
file(MAKE_DIRECTORY ${BPF_GEN_DIR})

add_custom_command(
  OUTPUT ${BPF_GEN_DIR}/vmlinux.h
  COMMAND ${BPFTOOL} btf dump file ${KERNEL_BTF} format c > ${BPF_GEN_DIR}/vmlinux.h.tmp
  COMMAND ${CMAKE_COMMAND} -E rename ${BPF_GEN_DIR}/vmlinux.h.tmp ${BPF_GEN_DIR}/vmlinux.h
  COMMENT "Generating vmlinux.h from ${KERNEL_BTF}"
  VERBATIM)

function(bpf_object name source)
  set(object ${BPF_GEN_DIR}/${name}.bpf.o)
  set(skeleton ${BPF_GEN_DIR}/${name}.skel.h)
  get_filename_component(source_dir ${source} DIRECTORY)
  file(GLOB headers CONFIGURE_DEPENDS ${source_dir}/*.h)
  add_custom_command(
    OUTPUT ${object}
    COMMAND ${BPF_CLANG} -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_${BPF_TARGET_ARCH}
            -Wall -Werror -I${BPF_GEN_DIR} -I${source_dir} ${LIBBPF_CFLAGS}
            -c ${source} -o ${object}
    DEPENDS ${source} ${headers} ${BPF_GEN_DIR}/vmlinux.h
    COMMENT "Compiling BPF program ${name}"
    VERBATIM)
  add_custom_command(
    OUTPUT ${skeleton}
    COMMAND ${BPFTOOL} gen skeleton ${object} name ${name}_bpf > ${skeleton}.tmp
    COMMAND ${CMAKE_COMMAND} -E rename ${skeleton}.tmp ${skeleton}
    DEPENDS ${object}
    COMMENT "Generating BPF skeleton ${name}.skel.h"
    VERBATIM)
  add_custom_target(${name}_skel_gen DEPENDS ${skeleton})
  add_library(${name}_skel INTERFACE)
  add_dependencies(${name}_skel ${name}_skel_gen)
  target_include_directories(${name}_skel INTERFACE ${BPF_GEN_DIR} ${source_dir})
  target_link_libraries(${name}_skel INTERFACE PkgConfig::LIBBPF)
endfunction()
