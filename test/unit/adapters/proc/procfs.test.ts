import {spawn} from 'node:child_process'
import {connect, createServer, type AddressInfo} from 'node:net'
import {describe, expect, it} from 'vitest'

import {
  findProcessesNamed,
  parseCmdline,
  parseNetTcp,
  parseStat,
  parseStatusRss,
  parseUptime,
  pidOfConnection,
  processNamed,
  readProcessInfo,
  readProcSample,
} from '../../../../src/lib/adapters/proc/procfs.js'
import {NotFoundError, ParseError} from '../../../../src/lib/core/errors.js'

// Captured from a Debian 12 host.
const STAT = '6417 (cat) R 6374 6374 4795 0 -1 4194304 95 0 0 0 7 3 0 0 20 0 1 0 3832623 3133440 382 18446744073709551615 94339400155136 94339400175017 140732554405216 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 94339400191024 94339400192640 94340100972544 140732554410511 140732554410531 140732554410531 140732554412011 0\n'
const STATUS = 'Name:\tcat\nUmask:\t0022\nState:\tR (running)\nVmPeak:\t    3060 kB\nVmSize:\t    3060 kB\nVmHWM:\t    2064 kB\nVmRSS:\t    2064 kB\nRssAnon:\t      88 kB\nThreads:\t1\n'
const ZOMBIE_STATUS = 'Name:\tdefunct\nState:\tZ (zombie)\nThreads:\t1\n'

describe('parseStat', () => {
  it('reads state, user + system CPU ticks and the start time', () => {
    expect(parseStat(STAT)).toEqual({state: 'R', cpuTicks: 10, startTicks: 3_832_623})
  })

  it('counts fields from the last parenthesis, so a name with spaces and parentheses cannot shift them', () => {
    expect(parseStat(STAT.replace('(cat)', '(my (odd) name)'))).toEqual({state: 'R', cpuTicks: 10, startTicks: 3_832_623})
  })

  it('refuses text that is not a stat line', () => {
    expect(() => parseStat('6417 (cat) R 1 2')).toThrow(ParseError)
    expect(() => parseStat('')).toThrow(ParseError)
  })
})

describe('parseStatusRss', () => {
  it('reads VmRSS in bytes', () => {
    expect(parseStatusRss(STATUS)).toBe(2064 * 1024)
  })

  it('is undefined for a process without memory (a zombie, a kernel thread)', () => {
    expect(parseStatusRss(ZOMBIE_STATUS)).toBeUndefined()
  })
})

describe('parseUptime and parseCmdline', () => {
  it('reads the seconds since boot', () => {
    expect(parseUptime('38326.24 16886.28\n')).toBe(38_326.24)
    expect(() => parseUptime('')).toThrow(ParseError)
  })

  it('splits NUL-separated arguments and keeps an empty one in the middle', () => {
    expect(parseCmdline('/usr/sbin/nats-server\0-c\0\0/etc/nats.conf\0')).toEqual(['/usr/sbin/nats-server', '-c', '', '/etc/nats.conf'])
    expect(parseCmdline('')).toEqual([])
  })
})

describe('processNamed', () => {
  it('matches comm or the base name of the program, not an argument', () => {
    const nats = {name: 'nats-server', argv: ['/usr/sbin/nats-server', '-c', 'x']}
    expect(processNamed(nats, 'nats-server')).toBe(true)
    // comm is cut at 15 characters: the program's name still matches.
    expect(processNamed({name: 'prometheus-aler', argv: ['/usr/bin/prometheus-alertmanager']}, 'prometheus-alertmanager')).toBe(true)
    expect(processNamed({name: 'node', argv: ['node', 'nats-server']}, 'nats-server')).toBe(false)
  })
})

describe('reading /proc', () => {
  it('samples this process: memory, CPU ticks, descriptors', async () => {
    const sample = await readProcSample(process.pid)
    expect(sample.rssBytes).toBeGreaterThan(1024 * 1024)
    expect(sample.fds).toBeGreaterThanOrEqual(3)
    expect(sample.cpuTicks).toBeGreaterThan(0)
    expect((await readProcessInfo(process.pid)).cmdline).toContain(process.argv[0])
  })

  it('a PID that does not exist is NOT_FOUND', async () => {
    await expect(readProcSample(2 ** 22 + 1)).rejects.toThrow(NotFoundError)
    await expect(readProcessInfo(2 ** 22 + 1)).rejects.toThrow('no process 4194305')
  })

  it('finds a process by its name, and not itself', async () => {
    const name = `cimops-probe-${process.pid}`
    const child = spawn(process.execPath, ['-e', `process.title = ${JSON.stringify(name)}; setTimeout(() => {}, 10000)`], {stdio: 'ignore'})
    try {
      await expect.poll(async () => (await findProcessesNamed(name.slice(0, 15))).map((p) => p.pid), {timeout: 5000}).toEqual([child.pid])
    } finally {
      child.kill()
    }
  })
})

// Captured /proc/net/tcp and tcp6: a listener on 4222, a client from 51234 to it (ESTABLISHED, state 01).
const NET_TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:107E 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3084613 1 00000000ab629289 100 0 0 10 0
   1: 0100007F:C822 0100007F:107E 01 00000000:00000000 00:00000000 00000000  1000        0 3090001 1 0000000000000000 20 4 30 10 -1
`
const NET_TCP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:C823 00000000000000000000000001000000:107E 01 00000000:00000000 00:00000000 00000000  1000        0 3090002 1 0000000000000000 20 4 30 10 -1
`

describe('TCP connections', () => {
  it('parseNetTcp reads ports, state and inode of IPv4 and IPv6 sockets', () => {
    expect(parseNetTcp(NET_TCP)).toEqual([
      {localPort: 4222, remotePort: 0, state: 10, inode: 3_084_613},
      {localPort: 51_234, remotePort: 4222, state: 1, inode: 3_090_001},
    ])
    expect(parseNetTcp(NET_TCP6)).toEqual([{localPort: 51_235, remotePort: 4222, state: 1, inode: 3_090_002}])
    expect(parseNetTcp('')).toEqual([])
  })

  it('pidOfConnection finds the process holding a connection, by its port and the port it connects to', async () => {
    const server = createServer()
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const serverPort = (server.address() as AddressInfo).port
    const client = connect(serverPort, '127.0.0.1')
    try {
      await new Promise((resolve) => client.once('connect', resolve))
      expect(await pidOfConnection(client.localPort!, serverPort)).toBe(process.pid)
      // The same local port to another server port is no connection.
      expect(await pidOfConnection(client.localPort!, serverPort === 65_535 ? 1 : serverPort + 1)).toBeUndefined()
    } finally {
      client.destroy()
      server.close()
    }
  })
})
