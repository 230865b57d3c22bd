namespace Platform.Silo.Tests.Nodes.Serf;

/// <summary>
/// What Serf 0.8.2's handlers see in <see cref="HandlerScenario"/>, normalised by <see cref="ScenarioTranscript"/>, as
/// recorded from Debian's serf. Notable: a node's own join reaches its handler together with the members it found
/// (one invocation), a member line ends with a newline, and a user event's payload reaches stdin with a newline added.
/// </summary>
public static class SerfTranscript
{
    public static readonly IReadOnlyList<string> Expected = """
        == node1 starts
        node1: member-join
            SERF_EVENT=member-join
            SERF_SELF_NAME=node1
            SERF_SELF_ROLE=web
            SERF_TAG_DC=east
            SERF_TAG_ROLE=web
            stdin| node1\t<addr>\tweb\tdc=east,role=web\n
        == node2 joins
        node1: member-join
            SERF_EVENT=member-join
            SERF_SELF_NAME=node1
            SERF_SELF_ROLE=web
            SERF_TAG_DC=east
            SERF_TAG_ROLE=web
            stdin| node2\t<addr>\tdb\tdc=west,role=db\n
        node2: member-join
            SERF_EVENT=member-join
            SERF_SELF_NAME=node2
            SERF_SELF_ROLE=db
            SERF_TAG_DC=west
            SERF_TAG_ROLE=db
            stdin| node1\t<addr>\tweb\tdc=east,role=web\n
            stdin| node2\t<addr>\tdb\tdc=west,role=db\n
        == node3 joins
        node1: member-join
            SERF_EVENT=member-join
            SERF_SELF_NAME=node1
            SERF_SELF_ROLE=web
            SERF_TAG_DC=east
            SERF_TAG_ROLE=web
            stdin| node3\t<addr>\tweb\tdc=east,role=web\n
        node2: member-join
            SERF_EVENT=member-join
            SERF_SELF_NAME=node2
            SERF_SELF_ROLE=db
            SERF_TAG_DC=west
            SERF_TAG_ROLE=db
            stdin| node3\t<addr>\tweb\tdc=east,role=web\n
        node3: member-join
            SERF_EVENT=member-join
            SERF_SELF_NAME=node3
            SERF_SELF_ROLE=web
            SERF_TAG_DC=east
            SERF_TAG_ROLE=web
            stdin| node1\t<addr>\tweb\tdc=east,role=web\n
            stdin| node2\t<addr>\tdb\tdc=west,role=db\n
            stdin| node3\t<addr>\tweb\tdc=east,role=web\n
        == tags -set version=2 -delete dc on node2
        node1: member-update
            SERF_EVENT=member-update
            SERF_SELF_NAME=node1
            SERF_SELF_ROLE=web
            SERF_TAG_DC=east
            SERF_TAG_ROLE=web
            stdin| node2\t<addr>\tdb\trole=db,version=2\n
        node2: member-update
            SERF_EVENT=member-update
            SERF_SELF_NAME=node2
            SERF_SELF_ROLE=db
            SERF_TAG_ROLE=db
            SERF_TAG_VERSION=2
            stdin| node2\t<addr>\tdb\trole=db,version=2\n
        node3: member-update
            SERF_EVENT=member-update
            SERF_SELF_NAME=node3
            SERF_SELF_ROLE=web
            SERF_TAG_DC=east
            SERF_TAG_ROLE=web
            stdin| node2\t<addr>\tdb\trole=db,version=2\n
        == event deploy v1 (through node1)
        node1: user
            SERF_EVENT=user
            SERF_SELF_NAME=node1
            SERF_SELF_ROLE=web
            SERF_TAG_DC=east
            SERF_TAG_ROLE=web
            SERF_USER_EVENT=deploy
            SERF_USER_LTIME=<ltime>
            stdin: "v1\n"
        node2: user
            SERF_EVENT=user
            SERF_SELF_NAME=node2
            SERF_SELF_ROLE=db
            SERF_TAG_ROLE=db
            SERF_TAG_VERSION=2
            SERF_USER_EVENT=deploy
            SERF_USER_LTIME=<ltime>
            stdin: "v1\n"
        node3: user
            SERF_EVENT=user
            SERF_SELF_NAME=node3
            SERF_SELF_ROLE=web
            SERF_TAG_DC=east
            SERF_TAG_ROLE=web
            SERF_USER_EVENT=deploy
            SERF_USER_LTIME=<ltime>
            stdin: "v1\n"
        == query load (through node1)
          | Query 'load' dispatched
          | Ack from 'node1'
          | Ack from 'node2'
          | Ack from 'node3'
          | Response from 'node1': load of node1
          | Response from 'node2': load of node2
          | Response from 'node3': load of node3
          | Total Acks: 3
          | Total Responses: 3
        node1: query
            SERF_EVENT=query
            SERF_QUERY_LTIME=<ltime>
            SERF_QUERY_NAME=load
            SERF_SELF_NAME=node1
            SERF_SELF_ROLE=web
            SERF_TAG_DC=east
            SERF_TAG_ROLE=web
            stdin: ""
        node2: query
            SERF_EVENT=query
            SERF_QUERY_LTIME=<ltime>
            SERF_QUERY_NAME=load
            SERF_SELF_NAME=node2
            SERF_SELF_ROLE=db
            SERF_TAG_ROLE=db
            SERF_TAG_VERSION=2
            stdin: ""
        node3: query
            SERF_EVENT=query
            SERF_QUERY_LTIME=<ltime>
            SERF_QUERY_NAME=load
            SERF_SELF_NAME=node3
            SERF_SELF_ROLE=web
            SERF_TAG_DC=east
            SERF_TAG_ROLE=web
            stdin: ""
        == node3 leaves gracefully
        node1: member-leave
            SERF_EVENT=member-leave
            SERF_SELF_NAME=node1
            SERF_SELF_ROLE=web
            SERF_TAG_DC=east
            SERF_TAG_ROLE=web
            stdin| node3\t<addr>\tweb\tdc=east,role=web\n
        node2: member-leave
            SERF_EVENT=member-leave
            SERF_SELF_NAME=node2
            SERF_SELF_ROLE=db
            SERF_TAG_ROLE=db
            SERF_TAG_VERSION=2
            stdin| node3\t<addr>\tweb\tdc=east,role=web\n
        == node2 is killed (kill -9)
        node1: member-failed
            SERF_EVENT=member-failed
            SERF_SELF_NAME=node1
            SERF_SELF_ROLE=web
            SERF_TAG_DC=east
            SERF_TAG_ROLE=web
            stdin| node2\t<addr>\tdb\trole=db,version=2\n
        == event deploy v2 (through node1)
        node1: user
            SERF_EVENT=user
            SERF_SELF_NAME=node1
            SERF_SELF_ROLE=web
            SERF_TAG_DC=east
            SERF_TAG_ROLE=web
            SERF_USER_EVENT=deploy
            SERF_USER_LTIME=<ltime>
            stdin: "v2\n"
        """.Split('\n');
}
