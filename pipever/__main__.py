from pipever.cli.entry import main

raise SystemExit(main())
