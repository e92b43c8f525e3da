// biome-ignore-all lint/suspicious/noTemplateCurlyInString: "${…}" is HCL syntax under test, not a template literal.
import { describe, expect, it } from 'vitest'
import type { ConfigIssue } from './config-error.ts'
import { describeValue, HclBodyReader, keyPath } from './hcl-body-reader.ts'
import { parseHclDocument } from './hcl-document.ts'

/** A reader over the parsed `text`, and the list its problems go to. */
async function readerOf(text: string): Promise<{ root: HclBodyReader; issues: ConfigIssue[] }> {
  const issues: ConfigIssue[] = []
  const document = parseHclDocument(text, { fileName: 'test.conf', subject: 'test' })
  return { root: new HclBodyReader('', document, issues), issues }
}

describe('HclBodyReader', () => {
  describe('string', () => {
    it('returns the value', async () => {
      const { root, issues } = await readerOf('name = "spire-server"')
      expect(root.string('name', 'a host name')).toBe('spire-server')
      expect(issues).toEqual([])
    })

    it('returns undefined for an absent key, and reports it only when required', async () => {
      const { root, issues } = await readerOf('')
      expect(root.string('optional', 'a host name')).toBeUndefined()
      expect(root.string('name', 'a host name such as "spire-server"', { required: true })).toBeUndefined()
      expect(issues).toEqual([
        { path: 'name', message: 'is required; expected a host name such as "spire-server"' },
      ])
    })

    it('reports a value of another type, describing what it got', async () => {
      const { root, issues } = await readerOf('name = 8081')
      expect(root.string('name', 'a host name')).toBeUndefined()
      expect(issues).toEqual([{ path: 'name', message: 'must be a host name; got 8081' }])
    })

    it('reports an empty or blank string unless empty is allowed', async () => {
      const { root, issues } = await readerOf('empty = ""\nblank = "  "\nin_cluster = ""')
      expect(root.string('empty', 'a file path')).toBeUndefined()
      expect(root.string('blank', 'a file path')).toBeUndefined()
      expect(root.string('in_cluster', 'a kubeconfig path', { allowEmpty: true })).toBe('')
      expect(issues).toEqual([
        { path: 'empty', message: 'must be a file path, not empty; got ""' },
        { path: 'blank', message: 'must be a file path, not empty; got "  "' },
      ])
    })

    it('refuses an HCL expression it would not evaluate, pointing at expandEnv', async () => {
      const { root, issues } = await readerOf('address = "${SERVER}"\nport = var.port')
      expect(root.string('address', 'a host name')).toBeUndefined()
      expect(root.string('port', 'a port')).toBeUndefined()
      expect(issues).toEqual([
        {
          path: 'address',
          message:
            'contains the HCL expression "${SERVER}", which is not evaluated; write a literal value ' +
            '(environment variables are substituted only when the configuration is loaded with expandEnv)',
        },
        { path: 'port', message: expect.stringContaining('contains the HCL expression "${var.port}"') },
      ])
    })

    it('reads the escapes $${ and %%{ as the literal text they stand for', async () => {
      const { root, issues } = await readerOf(
        'token_path = "/var/run/$${x}/token"\nnames = ["a%%{b}", "$${c}"]\nheredoc = <<EOF\n$${d}\nEOF\n',
      )
      expect(root.string('token_path', 'a file path')).toBe('/var/run/${x}/token')
      expect(root.stringList('names', 'names', () => undefined)).toEqual(['a%{b}', '${c}'])
      expect(root.string('heredoc', 'text')).toBe('${d}\n')
      expect(issues).toEqual([])
    })
  })

  describe('boolean', () => {
    it('accepts true and false, and refuses the strings "true" and "false"', async () => {
      const { root, issues } = await readerOf('on = true\noff = false\nquoted = "true"')
      expect(root.boolean('on')).toBe(true)
      expect(root.boolean('off')).toBe(false)
      expect(root.boolean('quoted')).toBeUndefined()
      expect(root.boolean('absent', { required: true })).toBeUndefined()
      expect(issues).toEqual([
        { path: 'quoted', message: 'must be true or false; got "true"' },
        { path: 'absent', message: 'is required; expected true or false' },
      ])
    })
  })

  describe('integer', () => {
    it('accepts an integer within the range, both ends included', async () => {
      const { root, issues } = await readerOf('low = 1\nhigh = 65535')
      expect(root.integer('low', { min: 1, max: 65_535 })).toBe(1)
      expect(root.integer('high', { min: 1, max: 65_535 })).toBe(65_535)
      expect(issues).toEqual([])
    })

    it.each([
      ['0', '0'],
      ['70000', '70000'],
      ['1.5', '1.5'],
      ['"8081"', '"8081"'],
      ['[1]', 'a list of 1 items'],
    ])('refuses %s', async (written, described) => {
      const { root, issues } = await readerOf(`port = ${written}`)
      expect(root.integer('port', { min: 1, max: 65_535 })).toBeUndefined()
      expect(issues).toEqual([
        { path: 'port', message: `must be an integer from 1 to 65535; got ${described}` },
      ])
    })
  })

  describe('positiveNumber', () => {
    it('accepts a number above zero, fractions included', async () => {
      const { root } = await readerOf('rate = 0.5')
      expect(root.positiveNumber('rate')).toBe(0.5)
    })

    it.each([
      ['0', '0'],
      ['-1', '-1'],
      ['"1"', '"1"'],
    ])('refuses %s', async (written, described) => {
      const { root, issues } = await readerOf(`rate = ${written}`)
      expect(root.positiveNumber('rate')).toBeUndefined()
      expect(issues).toEqual([{ path: 'rate', message: `must be a number greater than 0; got ${described}` }])
    })
  })

  describe('duration', () => {
    it('returns milliseconds', async () => {
      const { root } = await readerOf('ttl = "1h30m"')
      expect(root.duration('ttl', { minMs: 60_000 })).toBe(5_400_000)
    })

    it('refuses text that is not a Go duration, with the parser reason', async () => {
      const { root, issues } = await readerOf('ttl = "1 day"')
      expect(root.duration('ttl', { minMs: 60_000 })).toBeUndefined()
      expect(issues).toEqual([
        {
          path: 'ttl',
          message:
            'must be a duration of at least 1m such as "24h", "1h30m" or "90s"; got "1 day": ' +
            'unknown unit " day" (units: ns, us, ms, s, m, h)',
        },
      ])
    })

    it('refuses a bare number, and a duration below the minimum, quoting the given examples', async () => {
      const { root, issues } = await readerOf('interval = 5\nshort = "5ms"\nnegative = "-1s"')
      const bounds = { minMs: 10, examples: ['1s'] }
      expect(root.duration('interval', bounds)).toBeUndefined()
      expect(root.duration('short', bounds)).toBeUndefined()
      expect(root.duration('negative', { minMs: 10, examples: ['1s', '500ms'] })).toBeUndefined()
      expect(issues).toEqual([
        { path: 'interval', message: 'must be a duration of at least 10ms such as "1s"; got 5' },
        { path: 'short', message: 'must be a duration of at least 10ms such as "1s"; got "5ms"' },
        {
          path: 'negative',
          message: 'must be a duration of at least 10ms such as "1s" or "500ms"; got "-1s"',
        },
      ])
    })

    it('refuses a duration above the maximum, naming the range, and takes the maximum itself', async () => {
      const { root, issues } = await readerOf('long = "11m"\nlimit = "10m"')
      const bounds = { minMs: 1, maxMs: 600_000, examples: ['5s'] }
      expect(root.duration('long', bounds)).toBeUndefined()
      expect(root.duration('limit', bounds)).toBe(600_000)
      expect(issues).toEqual([
        { path: 'long', message: 'must be a duration from 1ms to 10m such as "5s"; got "11m"' },
      ])
    })
  })

  describe('stringList', () => {
    it('returns the items that pass the check and reports the others with their index', async () => {
      const { root, issues } = await readerOf('names = ["a", 1, "BAD", "b"]')
      const list = root.stringList('names', 'lowercase names', (item) =>
        item === item.toLowerCase() ? undefined : `must be lowercase; got ${JSON.stringify(item)}`,
      )
      expect(list).toEqual(['a', 'b'])
      expect(issues).toEqual([
        { path: 'names[1]', message: 'must be lowercase names; got 1' },
        { path: 'names[2]', message: 'must be lowercase; got "BAD"' },
      ])
    })

    it('refuses a value that is not a list, and an empty list when told to', async () => {
      const { root, issues } = await readerOf('one = "a"\nnone = []')
      expect(root.stringList('one', 'names')).toBeUndefined()
      expect(root.stringList('none', 'names', undefined, { emptyMessage: 'must name at least one' })).toEqual(
        [],
      )
      expect(issues).toEqual([
        { path: 'one', message: 'must be a list of names; got "a"' },
        { path: 'none', message: 'must name at least one' },
      ])
    })

    it('refuses a list holding an HCL expression', async () => {
      const { root, issues } = await readerOf('names = ["a", "${B}"]')
      expect(root.stringList('names', 'names')).toBeUndefined()
      expect(issues).toEqual([
        { path: 'names', message: expect.stringContaining('the HCL expression "${B}"') },
      ])
    })
  })

  describe('block', () => {
    it('returns a reader for the body, whose paths continue the parent', async () => {
      const { root, issues } = await readerOf('agent {\n  port = "x"\n}')
      const agent = root.block('agent', { required: true })
      expect(agent?.path).toBe('agent')
      agent?.integer('port', { min: 1, max: 2 })
      expect(issues).toEqual([{ path: 'agent.port', message: 'must be an integer from 1 to 2; got "x"' }])
    })

    it.each([
      ['absent', '', 'is required; expected a block, agent { … }'],
      [
        'written with "="',
        'agent = { a = 1 }',
        'must be written as a block, agent { … }, without "=" and without a label',
      ],
      ['labeled', 'agent "x" {}', 'must be written as a block, agent { … }, without "=" and without a label'],
      ['declared twice', 'agent {}\nagent {}', 'is declared 2 times; expected one agent block'],
    ])('refuses a block %s', async (_, text, message) => {
      const { root, issues } = await readerOf(text)
      expect(root.block('agent', { required: true })).toBeUndefined()
      expect(issues).toEqual([{ path: 'agent', message }])
    })
  })

  describe('labeledBlocks', () => {
    it('returns one reader per label, sorted by label, and nothing when absent', async () => {
      const { root, issues } = await readerOf('NodeAttestor "k8s_sat" {}\nNodeAttestor "k8s_psat" {}')
      const blocks = root.labeledBlocks('NodeAttestor', 'k8s_psat')
      expect([...blocks.keys()]).toEqual(['k8s_psat', 'k8s_sat'])
      expect(blocks.get('k8s_psat')?.path).toBe('NodeAttestor.k8s_psat')
      expect(root.labeledBlocks('DataStore', 'sql').size).toBe(0)
      expect(issues).toEqual([])
    })

    it('refuses a label declared twice, and a block without a label', async () => {
      const twice = await readerOf('NodeAttestor "k8s_psat" {}\nNodeAttestor "k8s_psat" {}')
      expect(twice.root.labeledBlocks('NodeAttestor', 'k8s_psat').size).toBe(0)
      expect(twice.issues).toEqual([
        {
          path: 'NodeAttestor.k8s_psat',
          message: 'is declared 2 times; expected at most one NodeAttestor "k8s_psat" block',
        },
      ])

      const unlabeled = await readerOf('NodeAttestor {}')
      expect(unlabeled.root.labeledBlocks('NodeAttestor', 'k8s_psat').size).toBe(0)
      expect(unlabeled.issues).toEqual([
        {
          path: 'NodeAttestor',
          message: 'must be written as blocks with a name label, e.g. NodeAttestor "k8s_psat" { … }',
        },
      ])
    })

    it('refuses a labeled entry that is not a block', async () => {
      const { root, issues } = await readerOf('NodeAttestor = { k8s_psat = "x" }')
      expect(root.labeledBlocks('NodeAttestor', 'k8s_psat').size).toBe(0)
      expect(issues).toEqual([
        {
          path: 'NodeAttestor.k8s_psat',
          message: 'must be written as a block with a name label, e.g. NodeAttestor "k8s_psat" { … }',
        },
      ])
    })
  })

  describe('objectMap', () => {
    const example = '{ "<name>" = { … } }'

    it('returns one reader per entry, with keys that are not identifiers quoted in paths', async () => {
      const { root, issues } = await readerOf(
        'clusters = {\n  demo = { a = 1 }\n  "my cluster" = { a = "x" }\n}',
      )
      const clusters = root.objectMap('clusters', example, { required: true })
      expect([...(clusters?.keys() ?? [])]).toEqual(['demo', 'my cluster'])
      clusters?.get('my cluster')?.integer('a', { min: 0, max: 9 })
      expect(issues).toEqual([
        { path: 'clusters["my cluster"].a', message: 'must be an integer from 0 to 9; got "x"' },
      ])
    })

    it('refuses a block in its place, and entries that are not objects', async () => {
      const asBlock = await readerOf('clusters {\n}')
      expect(asBlock.root.objectMap('clusters', example)).toBeUndefined()
      expect(asBlock.issues).toEqual([
        {
          path: 'clusters',
          message: 'must be a map of objects, clusters = { "<name>" = { … } }; got a block',
        },
      ])

      const notObjects = await readerOf('clusters = { demo = "x" }')
      expect(notObjects.root.objectMap('clusters', example)?.size).toBe(0)
      expect(notObjects.issues).toEqual([
        { path: 'clusters.demo', message: 'must be an object, { … }; got "x"' },
      ])
    })
  })

  describe('has', () => {
    it('says whether a key is present and marks it as known', async () => {
      const { root, issues } = await readerOf('DataStore = 1')
      expect(root.has('DataStore')).toBe(true)
      expect(root.has('NodeAttestor')).toBe(false)
      root.rejectUnknownKeys()
      expect(issues).toEqual([])
    })
  })

  describe('report', () => {
    it('records a problem with a key, or with the body itself', async () => {
      const { root, issues } = await readerOf('agent {}')
      const agent = root.block('agent')
      agent?.report('trust_domain', 'is wrong')
      agent?.report(undefined, 'needs a trust bootstrap')
      expect(issues).toEqual([
        { path: 'agent.trust_domain', message: 'is wrong' },
        { path: 'agent', message: 'needs a trust bootstrap' },
      ])
    })
  })

  describe('rejectUnknownKeys', () => {
    it('suggests the closest known key, explains hinted keys, and lists the known keys otherwise', async () => {
      const { root, issues } = await readerOf(
        'server_address = "a"\nsever_port = 1\njoin_token = "t"\nwhatever = 2\n',
      )
      root.string('server_address', 'a host name')
      root.integer('server_port', { min: 1, max: 65_535 })
      root.rejectUnknownKeys({ join_token: 'only service account tokens are supported' })
      expect(issues).toEqual([
        { path: 'join_token', message: 'is not supported: only service account tokens are supported' },
        { path: 'sever_port', message: 'is not a known key here; did you mean "server_port"?' },
        {
          path: 'whatever',
          message: 'is not a known key here; expected one of: server_address, server_port',
        },
      ])
    })

    it('counts a key as known even when its value was refused, so it is reported once', async () => {
      const { root, issues } = await readerOf('port = "x"')
      root.integer('port', { min: 1, max: 2 })
      root.rejectUnknownKeys()
      expect(issues).toHaveLength(1)
    })
  })
})

describe('keyPath', () => {
  it.each([
    ['', 'server', 'server'],
    ['server', 'trust_domain', 'server.trust_domain'],
    ['server.dns_names', 1, 'server.dns_names[1]'],
    ['clusters', 'my.cluster', 'clusters["my.cluster"]'],
    ['', 'my key', '["my key"]'],
  ])('joins %j and %j as %j', (parent, key, path) => {
    expect(keyPath(parent, key)).toBe(path)
  })
})

describe('describeValue', () => {
  it.each([
    ['short', '"short"'],
    ['x'.repeat(100), JSON.stringify(`${'x'.repeat(77)}...`)],
    [[{}], 'a block'],
    [[1, 2], 'a list of 2 items'],
    [[], 'a list of 0 items'],
    [{ a: 1 }, 'an object'],
    [null, 'null'],
    [42, '42'],
  ])('describes %j as %s', (value, description) => {
    expect(describeValue(value)).toBe(description)
  })
})
