"""
A graceful leave ends the agent, as Consul's: `PUT /v1/agent/leave` makes
gossipd leave the cluster and exit, and `cairn agent` then stops every
other role and exits 0 (it does not restart a role that left).
"""
import requests


def test_leave_stops_the_agent(node_factory):
    n = node_factory(name="leaver").start_agent()
    r = requests.put(n.url("/v1/agent/leave"), timeout=10)
    assert r.status_code == 200, r.text
    assert n.procs["agent"].wait(20) == 0
    log = n.log("agent")
    assert "stopping the agent" in log
    assert "restarting" not in log
