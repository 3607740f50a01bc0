# Code layout for the daemon: the functions it runs while starting and serving go first in `.text`, in one
# run of pages (cmake/hot-code.ld, written by scripts/layout-code from a callgrind run; see
# docs/architecture.md "Memory at rest"). Idle RSS -1.2 MiB.
#
# GNU ld has no ordering option, so the linker's own default script for this toolchain and these flags
# (printed by `--verbose`) is taken as it is, with one line added at the top of its `.text` statement:
# INCLUDE of the hot list. Everything else in the layout stays the linker's. A function the list names that
# no longer exists matches nothing. Without GNU ld, or if its script has an unexpected shape, the daemon
# links as usual.
#   shipgate_code_layout(TARGET) adds the script to TARGET's link and sets SHIPGATE_HAS_HOT_CODE.
function(shipgate_code_layout target)
  set(hot ${PROJECT_SOURCE_DIR}/cmake/hot-code.ld)
  set(dir ${CMAKE_BINARY_DIR}/code-layout)
  file(MAKE_DIRECTORY ${dir})
  file(WRITE ${dir}/probe.cpp "int main() { return 0; }\n")
  get_directory_property(link_options LINK_OPTIONS)
  string(REPLACE "LINKER:" "-Wl," link_options "${link_options}")
  separate_arguments(exe_flags UNIX_COMMAND "${CMAKE_EXE_LINKER_FLAGS}")
  list(APPEND link_options ${exe_flags})
  execute_process(COMMAND ${CMAKE_CXX_COMPILER} ${dir}/probe.cpp -o ${dir}/probe ${link_options} -Wl,--verbose
                  OUTPUT_VARIABLE verbose ERROR_QUIET RESULT_VARIABLE rc)
  set(SHIPGATE_HAS_HOT_CODE OFF PARENT_SCOPE)
  if(NOT rc EQUAL 0 OR NOT verbose MATCHES "GNU ld")
    message(STATUS "code layout: not applied (the linker is not GNU ld)")
    return()
  endif()
  string(REGEX MATCH "\n=+\n(.*)\n=+\n" _ "${verbose}")
  set(script "${CMAKE_MATCH_1}")
  string(REGEX MATCH "\n  \\.text +:\n  {\n" text_statement "${script}")
  if(NOT text_statement)
    message(STATUS "code layout: not applied (no .text statement in the linker's default script)")
    return()
  endif()
  string(REPLACE "${text_statement}" "${text_statement}    INCLUDE \"${hot}\"\n" script "${script}")
  file(WRITE ${dir}/shipgate.ld "/* The linker's default script with the hot-code list at the front of .text\n"
                                "   (cmake/CodeLayout.cmake). */\n${script}\n")
  target_link_options(${target} PRIVATE LINKER:-T,${dir}/shipgate.ld)
  set_property(TARGET ${target} APPEND PROPERTY LINK_DEPENDS ${hot})
  set(SHIPGATE_HAS_HOT_CODE ON PARENT_SCOPE)
  set(SHIPGATE_HOT_CODE ${hot} PARENT_SCOPE)
  message(STATUS "code layout: ${hot}")
endfunction()
