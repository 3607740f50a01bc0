#include <gtest/gtest.h>

#include "domain/state_machine.hpp"

using namespace shipgate::orchestration;

TEST(StateMachine, TransitionTable) {
  struct Case { State from; Event event; std::optional<State> want; };
  const Case cases[] = {
      {State::pending_approval, Event::approved, State::queued},
      {State::pending_approval, Event::reject, State::rejected},
      {State::pending_approval, Event::expire, State::expired},
      {State::pending_approval, Event::supersede, State::superseded},
      {State::pending_approval, Event::cancel, State::cancelled},
      {State::pending_approval, Event::start, std::nullopt},  // never runs without approval
      {State::queued, Event::start, State::running},
      {State::queued, Event::supersede, State::superseded},
      {State::queued, Event::cancel, State::cancelled},
      {State::queued, Event::approved, std::nullopt},
      {State::queued, Event::succeed, std::nullopt},
      {State::running, Event::succeed, State::succeeded},
      {State::running, Event::fail, State::failed},
      {State::running, Event::roll_back, State::rolled_back},
      {State::running, Event::resume, State::running},
      {State::running, Event::note, State::running},
      {State::queued, Event::note, std::nullopt},
      {State::running, Event::supersede, State::superseded},  // only before its first target (waiting for images)
      {State::running, Event::cancel, std::nullopt},
      {State::running, Event::start, std::nullopt},           // never claimed twice
  };
  for (const auto& c : cases)
    EXPECT_EQ(next_state(c.from, c.event), c.want) << to_string(c.from) << " + " << to_string(c.event);
}

TEST(StateMachine, FinalStatesNeverChange) {
  const State finals[] = {State::succeeded, State::failed,     State::rolled_back, State::rejected,
                          State::expired,   State::superseded, State::cancelled};
  const Event events[] = {Event::approved, Event::start, Event::resume, Event::note, Event::succeed, Event::fail,
                          Event::roll_back, Event::supersede, Event::cancel, Event::reject,  Event::expire};
  for (State s : finals) {
    EXPECT_TRUE(is_final(s));
    for (Event e : events) EXPECT_FALSE(next_state(s, e)) << to_string(s) << " + " << to_string(e);
  }
  EXPECT_FALSE(is_final(State::queued));
}

TEST(StateMachine, NamesRoundTrip) {
  EXPECT_FALSE(is_final(State::deploying_externally));
  for (State s : {State::pending_approval, State::queued, State::running, State::deploying_externally, State::succeeded, State::failed,
                  State::rolled_back, State::rejected, State::expired, State::superseded, State::cancelled})
    EXPECT_EQ(parse_state(to_string(s)), s);
  EXPECT_FALSE(parse_state("done"));
}

TEST(PlanTransition, SaysWhatAStateChangeWritesForBothStores) {
  struct Case {
    State from;
    Trigger trigger;
    Event event;
    std::optional<State> to;
    bool starts, finishes, keeps_waiting_reason, clears_bad_marks;
  };
  const Case cases[] = {
      {State::queued, Trigger::push, Event::start, State::running, true, false, false, false},
      {State::running, Trigger::push, Event::resume, State::running, true, false, false, false},
      {State::pending_approval, Trigger::push, Event::approved, State::queued, false, false, true, false},
      {State::running, Trigger::push, Event::succeed, State::succeeded, false, true, false, false},
      {State::running, Trigger::manual, Event::succeed, State::succeeded, false, true, false, true},
      {State::running, Trigger::override_, Event::fail, State::failed, false, true, false, false},
      {State::queued, Trigger::push, Event::supersede, State::superseded, false, true, false, false},
      {State::succeeded, Trigger::push, Event::start, std::nullopt, false, false, false, false},
      // A GitHub Actions job is handed over (from the queue, or past the gate by an override), never started.
      {State::queued, Trigger::github_actions, Event::hand_over, State::deploying_externally, true, false, false, false},
      {State::pending_approval, Trigger::github_actions, Event::hand_over, State::deploying_externally, true, false, false, false},
      {State::queued, Trigger::github_actions, Event::start, std::nullopt, false, false, false, false},
      {State::queued, Trigger::push, Event::hand_over, std::nullopt, false, false, false, false},
      {State::pending_approval, Trigger::override_, Event::hand_over, std::nullopt, false, false, false, false},
      {State::deploying_externally, Trigger::github_actions, Event::succeed, State::succeeded, false, true, false, false},
      {State::deploying_externally, Trigger::github_actions, Event::fail, State::failed, false, true, false, false},
      {State::deploying_externally, Trigger::github_actions, Event::cancel, State::cancelled, false, true, false, false},
      {State::deploying_externally, Trigger::github_actions, Event::expire, std::nullopt, false, false, false, false},
      {State::deploying_externally, Trigger::github_actions, Event::hand_over, std::nullopt, false, false, false, false},
  };
  for (const auto& c : cases) {
    const auto plan = plan_transition(c.from, c.trigger, c.event);
    ASSERT_EQ(plan.has_value(), c.to.has_value()) << to_string(c.from) << " + " << to_string(c.event);
    if (!plan) continue;
    EXPECT_EQ(plan->from, c.from);
    EXPECT_EQ(plan->to, *c.to) << to_string(c.from) << " + " << to_string(c.event);
    EXPECT_EQ(plan->starts, c.starts) << to_string(c.from) << " + " << to_string(c.event);
    EXPECT_EQ(plan->finishes, c.finishes) << to_string(c.from) << " + " << to_string(c.event);
    EXPECT_EQ(plan->keeps_waiting_reason, c.keeps_waiting_reason) << to_string(c.from) << " + " << to_string(c.event);
    EXPECT_EQ(plan->clears_bad_marks, c.clears_bad_marks) << to_string(c.trigger) << " " << to_string(c.event);
  }
}
