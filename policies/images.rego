# allowed-images: containers run only images from the repositories listed in
# data.house.allowed_images.
package main

import data.lib.k8s

# The repository of an image reference: no digest, no tag.
repository(image) := repo if {
	no_digest := split(image, "@")[0]
	parts := split(no_digest, "/")
	last := parts[count(parts) - 1]
	name := split(last, ":")[0]
	repo := concat("/", array.concat(array.slice(parts, 0, count(parts) - 1), [name]))
}

allowed(repo) if {
	some pattern in data.house.allowed_images
	not endswith(pattern, "/*")
	repo == pattern
}

allowed(repo) if {
	some pattern in data.house.allowed_images
	endswith(pattern, "/*")
	startswith(repo, trim_suffix(pattern, "*"))
}

deny contains k8s.result("allowed-images", obj, sprintf("%s.%s[%d].image", [k8s.pod_spec_path(obj), list, i]), msg) if {
	some obj in k8s.workloads
	some [list, i, c] in k8s.containers(obj)
	not allowed(repository(c.image))
	msg := sprintf("container %s runs %s, which is not from an allowed repository", [c.name, c.image])
}
