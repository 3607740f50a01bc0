// The deployment lifecycle as a pure function: (state, event) -> next state, or no transition.
// The store applies it inside its write transaction, so every caller gets the same rules.
#pragma once
#include <optional>
#include <string_view>

#include "domain/deployment.hpp"

namespace shipgate::orchestration {

enum class Event {
  approved,    // last required approval arrived
  start,       // dispatcher claimed it
  resume,      // found running after a restart: continue it (history note, state unchanged)
  note,        // something happened while running (a smoke attempt, a rollback starting): history only
  succeed,
  fail,
  roll_back,   // failed, and the previous version was put back
  supersede,   // a newer version arrived for the same environment before this one changed anything
  cancel,
  reject,
  expire,
};

std::string_view to_string(Event e);
std::optional<State> next_state(State from, Event e);

}  // namespace shipgate::orchestration
