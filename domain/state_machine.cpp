#include "domain/state_machine.hpp"

#include "domain/deployment_rules.hpp"

namespace shipgate::orchestration {

std::string_view to_string(Event e) {
  switch (e) {
    case Event::approved: return "approved";
    case Event::start: return "start";
    case Event::hand_over: return "hand_over";
    case Event::resume: return "resume";
    case Event::note: return "note";
    case Event::succeed: return "succeed";
    case Event::fail: return "fail";
    case Event::roll_back: return "roll_back";
    case Event::supersede: return "supersede";
    case Event::cancel: return "cancel";
    case Event::reject: return "reject";
    case Event::expire: return "expire";
  }
  return "?";
}

std::optional<State> next_state(State from, Event e) {
  switch (from) {
    case State::pending_approval:
      switch (e) {
        case Event::approved: return State::queued;
        case Event::hand_over: return State::deploying_externally;  // an override passes the rest of the gate
        case Event::supersede: return State::superseded;
        case Event::cancel: return State::cancelled;
        case Event::reject: return State::rejected;
        case Event::expire: return State::expired;
        default: return std::nullopt;
      }
    case State::queued:
      switch (e) {
        case Event::start: return State::running;
        case Event::hand_over: return State::deploying_externally;
        case Event::supersede: return State::superseded;
        case Event::cancel: return State::cancelled;
        default: return std::nullopt;
      }
    case State::running:
      switch (e) {
        case Event::resume: return State::running;
        case Event::note: return State::running;
        case Event::succeed: return State::succeeded;
        case Event::fail: return State::failed;
        case Event::roll_back: return State::rolled_back;
        // Only while no target has run yet (it waits for its images): the dispatcher makes sure.
        case Event::supersede: return State::superseded;
        default: return std::nullopt;
      }
    case State::deploying_externally:
      switch (e) {
        case Event::succeed: return State::succeeded;
        case Event::fail: return State::failed;
        case Event::cancel: return State::cancelled;  // GitHub never said how it ended: a person closes it
        default: return std::nullopt;
      }
    default:
      return std::nullopt;  // final states never change
  }
}

std::optional<TransitionPlan> plan_transition(State current, Trigger trigger, Event event) {
  // GitHub Actions deploys what shipgate gates: such a deployment is handed over, never started here,
  // and only such a one is handed over.
  const bool external = trigger == Trigger::github_actions;
  if ((event == Event::start && external) || (event == Event::hand_over && !external)) return std::nullopt;
  const auto next = next_state(current, event);
  if (!next) return std::nullopt;
  const bool starts = *next == State::running || *next == State::deploying_externally;
  return TransitionPlan{current, *next, starts, is_final(*next), *next == State::queued,
                        clears_bad_mark(trigger, *next)};
}

}  // namespace shipgate::orchestration
