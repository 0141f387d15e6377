package house_test.storage

import data.main

statefulset(size) := [{"path": "r.yaml", "contents": {"kind": "StatefulSet", "metadata": {"name": "db"}, "spec": {"template": {"spec": {"containers": []}}, "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {"resources": {"requests": {"storage": size}}}}]}}}]

sizes(doc) := {r | some r in main.deny with input as doc with data.house as {"part_of": "x", "storage": {"min": "1Gi", "max": "100Gi"}}; r.rule == "pvc-size-bounds"}

test_sizes_within_bounds_pass if {
	every size in ["1Gi", "10Gi", "100Gi"] {
		count(sizes(statefulset(size))) == 0
	}
}

test_sizes_outside_bounds_are_denied if {
	every size in ["512Mi", "101Gi", "1Ti"] {
		some r in sizes(statefulset(size))
		r.field == "spec.volumeClaimTemplates[0].spec.resources.requests.storage"
	}
}
