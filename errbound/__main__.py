from errbound.cli import main

raise SystemExit(main())
