// The single translation unit that compiles the parts of Boost.JSON shipgate uses: its streaming
// parser (basic_parser), which needs the error category, the parser's suspend stack and the memory
// resources that stack refers to (their type information is needed under UBSan).
#include <boost/json/basic_parser.hpp>
#include <boost/json/detail/impl/default_resource.ipp>
#include <boost/json/detail/impl/except.ipp>
#include <boost/json/detail/impl/shared_resource.ipp>
#include <boost/json/detail/impl/stack.ipp>
#include <boost/json/impl/error.ipp>
