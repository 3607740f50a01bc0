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
  hand_over,   // a GitHub Actions deployment passed the gate (or an override): GitHub deploys it
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

// What a state change writes, decided once for both stores: the store reads the deployment's state and
// trigger, asks plan_transition, and sets its columns and writes its side rows as this says.
struct TransitionPlan {
  State from = State::queued;
  State to = State::queued;
  bool starts = false;                // running or deploying externally: started_at is set, the first time only
  bool finishes = false;              // final: finished_at and the message are set
  bool keeps_waiting_reason = false;  // queued: why it waits stays; any other state clears it
  bool clears_bad_marks = false;      // a version a person chose succeeded: its bad marks there go
};

// No plan when the event does not apply in the current state (the write is refused).
std::optional<TransitionPlan> plan_transition(State current, Trigger trigger, Event event);

}  // namespace shipgate::orchestration
