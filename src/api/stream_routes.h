#pragma once
// What the live stream hears of entity changes: compact "entities" events for the hub.
#include <vector>

#include "context/broker.h"
#include "net/request.h"
#include "stream/hub.h"

namespace ioc::api {

//! {"id","type"(short name),"deleted"?,"attrs":{short name: value of each changed attribute}},
//! unit, type and location point of the entity. Cheap: runs on the store's commit thread.
stream::Event entityEvent(const context::EntityChange& change);
//! The broker's change listener for the hub; skips all work while no client is connected.
void publishEntityChanges(stream::Hub& hub, const std::vector<context::EntityChange>& changes);

//! Server-Sent Events of one citizen report for whoever holds its tracking code (no account):
//! the hub's "tracking" topic narrowed to that code. The caller checked that the code exists.
net::Response openTrackingStream(stream::Hub& hub, const std::string& code);

}  // namespace ioc::api
