package container

// The network part of a container's record, in docker's shape (package
// network owns what these values mean).

// HostNetworkConfig are HostConfig's network fields; HostConfig embeds it,
// so they appear at its top level as in docker's inspect.
type HostNetworkConfig struct {
	PortBindings    map[string][]PortBinding `json:"PortBindings"`
	PublishAllPorts bool                     `json:"PublishAllPorts"`
	DNS             []string                 `json:"Dns"`
	DNSOptions      []string                 `json:"DnsOptions"`
	DNSSearch       []string                 `json:"DnsSearch"`
	ExtraHosts      []string                 `json:"ExtraHosts"`
	Links           []string                 `json:"Links"` // --link, "name:alias"
}

// PortBinding is one host side of a published port ("" host port: random).
type PortBinding struct {
	HostIP   string `json:"HostIp"`
	HostPort string `json:"HostPort"`
}

// ConfigNetwork are Config's network fields, embedded in Config.
type ConfigNetwork struct {
	ExposedPorts map[string]struct{} `json:"ExposedPorts,omitempty"`
}

// NetworkingConfig is docker's: the container's settings per network.
type NetworkingConfig struct {
	EndpointsConfig map[string]EndpointConfig `json:"EndpointsConfig"`
}

// EndpointConfig is a container's settings on one network.
type EndpointConfig struct {
	Aliases    []string            `json:"Aliases"`
	IPAMConfig *EndpointIPAMConfig `json:"IPAMConfig"`
	MacAddress string              `json:"MacAddress"`
}

// EndpointIPAMConfig is --ip.
type EndpointIPAMConfig struct {
	IPv4Address string `json:"IPv4Address,omitempty"`
}
