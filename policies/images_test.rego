package house_test.images

import data.main

allowed := ["postgres", "redis", "ai-agents/*"]

labels := {"app.kubernetes.io/name": "x", "app.kubernetes.io/part-of": "ai-agents"}

pod(image) := [{"path": "r.yaml", "contents": {"kind": "StatefulSet", "metadata": {"name": "db", "labels": labels}, "spec": {"template": {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "db", "image": image}]}}}}}]

test_repository_strips_tag_and_digest if {
	main.repository("postgres:17-alpine@sha256:abc") == "postgres"
	main.repository("registry.local:5000/team/app:1.0") == "registry.local:5000/team/app"
	main.repository("ai-agents/app") == "ai-agents/app"
}

test_allowed_images_pass if {
	every image in ["postgres:17-alpine@sha256:abc", "redis:7-alpine", "ai-agents/app:0.1.0"] {
		count({r | some r in main.deny; r.rule == "allowed-images"}) == 0 with input as pod(image)
			with data.house.allowed_images as allowed
			with data.house.part_of as "ai-agents"
	}
}

test_other_images_are_denied if {
	every image in ["mysql:8", "evil.example/postgres:17", "ai-agents-fork/app:1", "library/postgres:17"] {
		some r in main.deny with input as pod(image)
			with data.house.allowed_images as allowed
			with data.house.part_of as "ai-agents"
		r.rule == "allowed-images"
		r.field == "spec.template.spec.containers[0].image"
	}
}

test_pod_images_are_checked if {
	some r in main.deny with input as [{"path": "p.yaml", "contents": {"kind": "Pod", "metadata": {"name": "p", "labels": labels}, "spec": {"containers": [{"name": "c", "image": "busybox:1"}]}}}]
		with data.house.allowed_images as allowed
		with data.house.part_of as "ai-agents"
	r.rule == "allowed-images"
	r.field == "spec.containers[0].image"
}
