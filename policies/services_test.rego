package house_test.services

import data.main

service(ports) := [{"path": "r.yaml", "contents": {"kind": "Service", "metadata": {"name": "api", "labels": {"app.kubernetes.io/name": "api", "app.kubernetes.io/part-of": "ai-agents"}}, "spec": {"ports": ports}}}]

port_names(input_doc) := {r | some r in main.deny with input as input_doc with data.house.part_of as "ai-agents"; r.rule == "service-port-names"}

test_unnamed_port_is_denied_at_its_index if {
	some r in port_names(service([{"name": "http", "port": 80}, {"port": 9090}]))
	r.field == "spec.ports[1].name"
}

test_named_ports_pass if {
	count(port_names(service([{"name": "http", "port": 80}, {"name": "metrics", "port": 9090}]))) == 0
}

test_a_service_without_ports_passes if {
	count(port_names([{"path": "r.yaml", "contents": {"kind": "Service", "metadata": {"name": "x"}, "spec": {"type": "ExternalName"}}}])) == 0
}
