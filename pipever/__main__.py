from pipever.cli.app import main

raise SystemExit(main())
