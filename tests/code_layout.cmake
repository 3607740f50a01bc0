# Checks that the daemon was linked with its code layout (cmake/hot-code.ld) and that the layout still
# names the code: the start-up path lies in the hot section, and most functions the layout lists exist.
# Run by ctest: cmake -DBINARY=... -DLAYOUT=... -DWORK=... -P code_layout.cmake
execute_process(COMMAND readelf -SW ${BINARY} OUTPUT_VARIABLE sections COMMAND_ERROR_IS_FATAL ANY)
if(NOT sections MATCHES "\\.text\\.shipgate_hot +PROGBITS +([0-9a-f]+) +[0-9a-f]+ +([0-9a-f]+)")
  message(FATAL_ERROR "${BINARY} has no .text.shipgate_hot section: it was linked without ${LAYOUT}")
endif()
math(EXPR hot_begin "0x${CMAKE_MATCH_1}")
math(EXPR hot_end "0x${CMAKE_MATCH_1} + 0x${CMAKE_MATCH_2}")

execute_process(COMMAND nm --defined-only ${BINARY} OUTPUT_VARIABLE symbols COMMAND_ERROR_IS_FATAL ANY)
if(NOT symbols MATCHES "(^|\n)([0-9a-f]+) T main\n")
  message(FATAL_ERROR "no main in ${BINARY}")
endif()
math(EXPR main_at "0x${CMAKE_MATCH_2}")
if(main_at LESS hot_begin OR NOT main_at LESS hot_end)
  message(FATAL_ERROR "main is outside the hot section: ${LAYOUT} was not applied in order")
endif()

# Each listed line's first section names one function; count those still defined in the binary.
file(STRINGS ${LAYOUT} lines REGEX "^ +\\*\\(\\.text")
set(names "")
foreach(line IN LISTS lines)
  string(REGEX REPLACE "^ +\\*\\(\\.text(\\.startup|\\.hot|\\.unlikely)?\\.([^ )]+).*" "\\2" name "${line}")
  string(APPEND names "${name}\n")
endforeach()
list(LENGTH lines listed)
string(REGEX REPLACE "(^|\n)[0-9a-f]* *[A-Za-z] " "\\1" symbol_names "${symbols}")
file(WRITE ${WORK}/layout-names.txt "${names}")
file(WRITE ${WORK}/binary-symbols.txt "${symbol_names}")
execute_process(COMMAND grep -c -x -F -f ${WORK}/binary-symbols.txt ${WORK}/layout-names.txt
                OUTPUT_VARIABLE present OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT present)
  set(present 0)
endif()
math(EXPR percent "100 * ${present} / ${listed}")
message(STATUS "code layout: ${present} of ${listed} listed functions exist (${percent} %)")
if(percent LESS 80)
  message(FATAL_ERROR "${LAYOUT} is stale: only ${present} of ${listed} functions it lists still exist; "
                      "regenerate it with scripts/layout-code (needs scripts/setup --bench)")
endif()
